// What the memory benchmarks (bench/memory.ts, bench/pod-memory.ts) share: their files (the bench
// corpus's prose as one PDF as large as the worker accepts, a quarter of it, and small files of
// every format), and one worker run that drains a queue of them while its RSS is watched.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makePdf } from '../../test/fixtures/documents.js';
import { stratifiedSample } from './chunks.js';
import { countWords, loadCorpus, type Manifest } from './corpus.js';
import { createQueue, deleteIndex, deleteQueue, enqueue, imageAllocatorEnv, indexedLines, makeFiles, runWorker, type BenchFile, type WorkerOptions } from './pipeline.js';
import { median } from './stats.js';

export interface MemoryFiles {
  /** One PDF of `pageCount` pages of about `wordsPerPage` words (the corpus repeated as needed). */
  readonly largePdf: BenchFile;
  /** Its first quarter: if memory grew with the file, the two peaks would differ. */
  readonly quarterPdf: BenchFile;
  readonly smallFiles: readonly BenchFile[];
}

export async function makeMemoryFiles(root: string, options: { pageCount: number; wordsPerPage: number; smallChunks: number }): Promise<MemoryFiles> {
  const manifest = JSON.parse(readFileSync(path.join(root, 'bench', 'corpus', 'manifest.json'), 'utf8')) as Manifest;
  const documents = loadCorpus(root, manifest);
  const words = documents.flatMap((document) => document.paragraphs.join(' ').split(/\s+/));
  const { pageCount, wordsPerPage } = options;
  const pages = Array.from({ length: pageCount }, (_, page) => {
    const first = (page * wordsPerPage) % Math.max(1, words.length - wordsPerPage);
    return `Page ${page + 1}. ${words.slice(first, first + wordsPerPage).join(' ')}`;
  });
  const smallDocuments = [];
  let estimate = 0;
  for (const document of stratifiedSample(documents, documents.length)) {
    if (estimate >= options.smallChunks) break;
    smallDocuments.push(document);
    estimate += Math.ceil(countWords(document.paragraphs) / 130);
  }
  return {
    largePdf: { key: 'memory/large.pdf', bytes: await makePdf(pages, { title: 'large' }), format: 'pdf' },
    quarterPdf: { key: 'memory/quarter.pdf', bytes: await makePdf(pages.slice(0, Math.ceil(pageCount / 4)), { title: 'quarter' }), format: 'pdf' },
    smallFiles: (await makeFiles(smallDocuments)).map((file) => ({ ...file, key: `memory/small/${file.key}` })),
  };
}

export interface MemoryRun {
  readonly peakMb: number;
  /** Median RSS between 'worker ready' and the last file indexed. */
  readonly medianMb: number;
  readonly chunks: number;
  readonly files: number;
  readonly seconds: number;
  readonly chunksPerSecond: number;
}

/**
 * One worker process with default settings and the image's allocator settings drains a new queue
 * of `files` from `bucket` into the index `index`; both are deleted after. Throws unless every file
 * was indexed, with `describe()` (e.g. OOM kills) in the message.
 */
export async function drainAndMeasure(options: {
  readonly root: string;
  readonly bucket: string;
  readonly index: string;
  readonly files: readonly BenchFile[];
  readonly modelDir: string;
  readonly worker: Pick<WorkerOptions, 'cli' | 'node' | 'wrap'>;
  readonly describe?: () => string;
}): Promise<MemoryRun> {
  const { index, files } = options;
  const queueUrl = await createQueue(index);
  await enqueue(queueUrl, options.bucket, files);
  const run = await runWorker({
    ...options.worker,
    env: { ...imageAllocatorEnv(options.root), SQS_QUEUE_URL: queueUrl, ELASTICSEARCH_INDEX: index, EMBEDDING_MODEL: options.modelDir, HTTP_PORT: '0', SQS_WAIT_TIME_SECONDS: '1', LOG_LEVEL: 'info' },
    drain: true,
    timeoutMs: 30 * 60_000,
  });
  await deleteQueue(queueUrl);
  await deleteIndex(index);
  await deleteIndex(`${index}-files`);
  const indexed = indexedLines(run);
  const ready = run.lines.find((line) => line.msg === 'worker ready');
  if (indexed.length !== files.length || ready?.time === undefined) {
    const warnings = JSON.stringify(run.lines.filter((line) => (line.level ?? 0) >= 40).slice(0, 3));
    throw new Error(`${index}: indexed ${indexed.length} of ${files.length} files, exit ${run.exitCode}${options.describe ? `, ${options.describe()}` : ''}: ${warnings}`);
  }
  const end = Math.max(...indexed.map((line) => line.time ?? 0));
  const seconds = (end - ready.time) / 1000;
  const chunks = indexed.reduce((n, line) => n + (line.chunks ?? 0), 0);
  const during = run.rss.filter((sample) => sample.at >= ready.time! && sample.at <= end).map((sample) => sample.mb);
  return { peakMb: run.peakMb, medianMb: median(during), chunks, files: files.length, seconds, chunksPerSecond: chunks / seconds };
}
