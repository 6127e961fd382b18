// `npm run bench -- --memory`: does a worker's memory grow with the file? Peak RSS of one worker
// process (default settings, the image's allocator environment) while it indexes one very large
// generated PDF, and while it indexes a set of small files; for this code ("after") and for a
// build of the code before files went through in slices ("before", a git ref), rounds alternating.
// Invoked by bench/run (which prepares the model, the dev stack and a build of app/src).
//
//   bench/run --memory [--quick] [--memory-before=<git ref>] [--pages=<n>] [--words-per-page=<n>] [--rounds=<n>]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePdf } from '../test/fixtures/documents.js';
import { stratifiedSample } from './lib/chunks.js';
import { countWords, loadCorpus, type Manifest } from './lib/corpus.js';
import {
  createBucket,
  createQueue,
  deleteIndex,
  deleteQueue,
  enqueue,
  imageAllocatorEnv,
  indexedLines,
  makeFiles,
  runWorker,
  settings,
  type BenchFile,
} from './lib/pipeline.js';
import { median, round } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = argv.includes('--quick');
/** The last commit whose worker held a whole file's chunks, vectors and bulk bodies at once. */
const beforeRef = option('memory-before') ?? '5825158';
/** The default CONVERT_MAX_PAGES, so the file is as large as the worker accepts by default. */
const pageCount = Number(option('pages') ?? settings.convert.maxPages);
const rounds = Number(option('rounds') ?? (quick ? 1 : 2));
/** About one chunk a page (SPLIT_LENGTH 150 words, within pages): 2,000 chunks, a few minutes a run here. */
const WORDS_PER_PAGE = Number(option('words-per-page') ?? 100);
const work = path.join(root, 'bench', '.work', 'memory');
const cli = process.env.BENCH_CLI;
const modelDir = process.env.BENCH_MODEL_DIR;
if (!cli || !modelDir) throw new Error('BENCH_CLI and BENCH_MODEL_DIR are not set: run `npm run bench -- --memory` (bench/run sets them)');

const t0 = performance.now();
const log = (message: string) => console.error(`[memory ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`);
mkdirSync(work, { recursive: true });

// ---------------------------------------------------------------------------------------------
// "Before": the worker built from `beforeRef`, with this checkout's node_modules.
const beforeDir = path.join(work, 'before');
const beforeCommit = execFileSync('git', ['rev-parse', '--short', beforeRef], { cwd: root, encoding: 'utf8' }).trim();
execFileSync(path.join(root, 'scripts', 'build-rev'), [beforeCommit, beforeDir], { cwd: root, stdio: 'inherit' });
const beforeCli = path.join(beforeDir, 'dist', 'cli.js');
log(`built the worker of ${beforeCommit} into ${path.relative(root, beforeDir)}`);

// ---------------------------------------------------------------------------------------------
// Files: the bench corpus's prose, as one PDF of `pageCount` pages (~300 words a page, the
// corpus repeated as often as needed) and as small files of every format.
const manifest = JSON.parse(readFileSync(path.join(root, 'bench', 'corpus', 'manifest.json'), 'utf8')) as Manifest;
const documents = loadCorpus(root, manifest);
const words = documents.flatMap((document) => document.paragraphs.join(' ').split(/\s+/));
const pages = Array.from({ length: pageCount }, (_, page) => {
  const first = (page * WORDS_PER_PAGE) % Math.max(1, words.length - WORDS_PER_PAGE);
  return `Page ${page + 1}. ${words.slice(first, first + WORDS_PER_PAGE).join(' ')}`;
});
const largePdf: BenchFile = { key: 'memory/large.pdf', bytes: await makePdf(pages, { title: 'large' }), format: 'pdf' };
// A quarter of it: if memory grew with the file, the two peaks would differ.
const quarterPdf: BenchFile = { key: 'memory/quarter.pdf', bytes: await makePdf(pages.slice(0, Math.ceil(pageCount / 4)), { title: 'quarter' }), format: 'pdf' };
const smallDocuments = [];
{
  let estimate = 0;
  for (const document of stratifiedSample(documents, documents.length)) {
    if (estimate >= (quick ? 150 : 300)) break;
    smallDocuments.push(document);
    estimate += Math.ceil(countWords(document.paragraphs) / 130);
  }
}
const smallFiles = (await makeFiles(smallDocuments)).map((file) => ({ ...file, key: `memory/small/${file.key}` }));
const bucket = `bench-memory-${process.pid}-${Date.now().toString(36)}`;
await createBucket(bucket, [largePdf, quarterPdf, ...smallFiles]);
log(`large PDF: ${pageCount} pages (and a quarter of it), ${(largePdf.bytes.byteLength / 2 ** 20).toFixed(1)} MB; small files: ${smallFiles.length}`);

// ---------------------------------------------------------------------------------------------
type Scenario = 'large' | 'quarter' | 'small';
interface MemoryRun {
  peakMb: number;
  medianMb: number;
  chunks: number;
  files: number;
  seconds: number;
  chunksPerSecond: number;
}
const imageEnv = imageAllocatorEnv(root);
const runOnce = async (variant: 'before' | 'after', scenario: Scenario, round: number): Promise<MemoryRun> => {
  const index = `${bucket}-${variant}-${scenario}-${round}`;
  const queueUrl = await createQueue(index);
  const files = scenario === 'large' ? [largePdf] : scenario === 'quarter' ? [quarterPdf] : smallFiles;
  await enqueue(queueUrl, bucket, files);
  const run = await runWorker({
    cli: variant === 'before' ? beforeCli : cli,
    env: { ...imageEnv, SQS_QUEUE_URL: queueUrl, ELASTICSEARCH_INDEX: index, EMBEDDING_MODEL: modelDir, HTTP_PORT: '0', SQS_WAIT_TIME_SECONDS: '1', LOG_LEVEL: 'info' },
    drain: true,
    timeoutMs: 30 * 60_000,
  });
  await deleteQueue(queueUrl);
  await deleteIndex(index);
  await deleteIndex(`${index}-files`);
  const indexed = indexedLines(run);
  const ready = run.lines.find((line) => line.msg === 'worker ready');
  if (indexed.length !== files.length || ready?.time === undefined) {
    throw new Error(`${variant}/${scenario}: indexed ${indexed.length} of ${files.length} files: ${JSON.stringify(run.lines.filter((l) => (l.level ?? 0) >= 40).slice(0, 3))}`);
  }
  const end = Math.max(...indexed.map((line) => line.time ?? 0));
  const seconds = (end - ready.time) / 1000;
  const chunks = indexed.reduce((n, line) => n + (line.chunks ?? 0), 0);
  const during = run.rss.filter((sample) => sample.at >= ready.time! && sample.at <= end).map((sample) => sample.mb);
  return { peakMb: run.peakMb, medianMb: median(during), chunks, files: files.length, seconds, chunksPerSecond: chunks / seconds };
};

const runs: Record<string, MemoryRun[]> = {};
const steps = (['large', 'quarter', 'small'] as const).flatMap((scenario) => (['before', 'after'] as const).map((variant) => ({ scenario, variant })));
for (let round = 0; round < rounds; round++) {
  // Alternate which variant goes first each round.
  for (const { scenario, variant } of round % 2 === 0 ? steps : [...steps].reverse()) {
    const run = await runOnce(variant, scenario, round);
    (runs[`${variant}/${scenario}`] ??= []).push(run);
    log(`round ${round + 1}: ${variant} ${scenario}: peak ${run.peakMb.toFixed(0)} MB, median ${run.medianMb.toFixed(0)} MB, ${run.chunks} chunks in ${run.seconds.toFixed(0)} s`);
  }
}

// ---------------------------------------------------------------------------------------------
const summary = (key: string) => {
  const list = runs[key] ?? [];
  return {
    peakMb: round(median(list.map((r) => r.peakMb)), 0),
    peakMbRuns: list.map((r) => round(r.peakMb, 0)),
    medianMb: round(median(list.map((r) => r.medianMb)), 0),
    chunks: list[0]?.chunks ?? 0,
    files: list[0]?.files ?? 0,
    chunksPerSecond: round(median(list.map((r) => r.chunksPerSecond)), 1),
  };
};
const results = {
  date: new Date().toISOString(),
  command: `npm run bench -- --memory${quick ? ' --quick' : ''}`,
  machine: { cpus: os.cpus().length, memoryGb: round(os.totalmem() / 2 ** 30, 1), loadAverage: os.loadavg().map((l) => round(l, 2)), node: process.version },
  before: { ref: beforeCommit },
  settings: { concurrency: settings.worker.concurrency, batchTokens: settings.embedding.batchTokens, sliceChunks: settings.embedding.sliceChunks, allocator: imageEnv },
  largePdf: { pages: pageCount, wordsPerPage: WORDS_PER_PAGE, megabytes: round(largePdf.bytes.byteLength / 2 ** 20, 1) },
  rounds,
  scenarios: Object.fromEntries(Object.keys(runs).sort().map((key) => [key, summary(key)])),
  target: { peakMbAtMost: 600 },
};
const rows = Object.entries(results.scenarios).map(
  ([key, s]) => `| ${key.replace('/', ' | ')} | ${s.files} | ${s.chunks} | **${s.peakMb}** (${s.peakMbRuns.join(', ')}) | ${s.medianMb} | ${s.chunksPerSecond} |`,
);
const markdown = [
  `Peak RSS of one worker process (\`VmHWM\`), default settings (concurrency ${results.settings.concurrency}, ` +
    `EMBEDDING_BATCH_TOKENS ${results.settings.batchTokens}, EMBEDDING_SLICE_CHUNKS ${results.settings.sliceChunks}), ` +
    `the image's allocator settings; "before" is commit ${beforeCommit} (--memory-before; the default, 5825158, held a whole file at once). ` +
    `Large: one PDF of ${pageCount} pages of ~${WORDS_PER_PAGE} words (${results.largePdf.megabytes} MB); quarter: its first ${Math.ceil(pageCount / 4)} pages; ` +
    `small: ${smallFiles.length} files of every format. Median of ${rounds} round(s), each run in brackets; ` +
    `${results.machine.cpus} cores, load ${results.machine.loadAverage.join(' / ')} at the end. Target: peak ≤ 600 MB.`,
  '',
  '| code | scenario | files | chunks | peak RSS, MB | median RSS while indexing, MB | chunks/s |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
].join('\n');
const resultsDir = path.join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const base = `${results.date.slice(0, 10)}-memory${quick ? '-quick' : ''}`;
writeFileSync(path.join(resultsDir, `${base}.json`), JSON.stringify(results, null, 1) + '\n');
writeFileSync(path.join(resultsDir, `${base}.md`), markdown);
if (!quick) {
  const docs = path.join(root, 'docs', 'benchmarks.md');
  const START = '<!-- memory:start (generated by npm run bench -- --memory) -->';
  const END = '<!-- memory:end -->';
  const text = readFileSync(docs, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${docs} lacks the ${START} … ${END} markers`);
  const section = `${START}\n\nLatest run: [bench/results/${base}.json](../bench/results/${base}.json).\n\n${markdown}\n${END}`;
  writeFileSync(docs, text.slice(0, start) + section + text.slice(end + END.length));
}
console.log(markdown);
log(`wrote bench/results/${base}.json and .md${quick ? '' : '; updated docs/benchmarks.md'}`);
process.exit(0);
