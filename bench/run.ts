// `npm run bench`: every figure of docs/benchmarks.md in one go on this machine.
// Invoked by bench/run (which prepares the Python venv, the model, the dev stack and a build);
// see docs/benchmarks.md for what each figure means and how contenders are made to race fairly.
//
//   bench/run [--quick] [--no-footprint] [--no-isolated] [--baseline REV] [--rounds N] [--write-manifest]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cosineSimilarity } from '../app/src/embed/embedder.js';
import { convert, DEFAULT_CONVERT_LIMITS } from '../app/src/convert/index.js';
import { planBatches } from '../app/src/embed/batcher.js';
import { WORD_GAPS, wordTokenEncoder } from '../app/src/embed/word-tokens.js';
import { pdfToText } from '../app/src/convert/formats/pdf.js';
import { splitText } from '../app/src/split/splitter.js';
import { createElasticsearchClient, ElasticsearchSink } from '../app/src/store/elasticsearch/chunks.js';
import { makePdf } from '../test/fixtures/documents.js';
import { corpusChunks, stratifiedSample, type BenchChunk } from './lib/chunks.js';
import { buildManifest, countWords, loadCorpus, type Document, type Manifest } from './lib/corpus.js';
import { loadRaw, loadStage, loadVariant, prepareFeeds, runRaw, runStage, tokensOf, type EmbedRun } from './lib/embed.js';
import { paddingBetween, pin, plannedPadding, runEmbedOnly, splitCores, stageCpuBetween, textsPerBatchBetween, type CoreSplit } from './lib/isolated.js';
import { PythonPeer } from './lib/peer.js';
import {
  createBucket,
  cpuBetween,
  createQueue,
  deleteIndex,
  devStackPids,
  deleteQueue,
  enqueue,
  freePort,
  imageAllocatorEnv,
  imageCompileCacheEnv,
  indexedLines,
  makeFiles,
  pagesOf,
  runWorker,
  settings,
  type BenchFile,
} from './lib/pipeline.js';
import { renderMarkdown, renderSvg, updateDocs } from './lib/report.js';
import { median, ratio, round, summarize, type Summary } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
/** The isolated end-to-end mode (bench/lib/isolated.ts): on unless --no-isolated. */
const isolatedMode = !args.has('--no-isolated');
const work = path.join(root, 'bench', '.work');
const manifestPath = path.join(root, 'bench', 'corpus', 'manifest.json');

if (args.has('--write-manifest')) {
  mkdirSync(path.dirname(manifestPath), { recursive: true });
  const manifest = buildManifest(root);
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
  console.error(`wrote ${manifestPath}: ${manifest.sources.length} sources, ${manifest.sources.reduce((n, s) => n + s.words, 0)} words`);
  process.exit(0);
}

const modelDir = need('BENCH_MODEL_DIR');
const python = need('BENCH_PYTHON');
const cli = need('BENCH_CLI');
const batchTokens = settings.embedding.batchTokens;
/** With --baseline REV (bench/run builds it), that commit's worker alternates with this one. */
const baselineCli = process.env.BENCH_BASELINE_CLI;

/** Sizes: the full run fits in about ten minutes on the 2-core machine; --quick is a smoke run. */
const size = quick
  ? { sample: 48, rounds: 2, sweepSample: 32, sweepRounds: 1, e2eChunks: 60, e2eRounds: 1, coldRounds: 1, pdfFiles: 3, pdfRounds: 1, probeRounds: 1 }
  : { sample: 192, rounds: 5, sweepSample: 128, sweepRounds: 2, e2eChunks: 500, e2eRounds: 3, coldRounds: 7, pdfFiles: 12, pdfRounds: 3, probeRounds: 3 };
/** `--rounds N` sets the end-to-end and cold-start rounds (e.g. more rounds in a --quick run). */
const roundsArg = process.argv.indexOf('--rounds');
if (roundsArg > 0) {
  const rounds = Number(process.argv[roundsArg + 1]);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number ≥ 1, e.g. --rounds 3');
  Object.assign(size, { e2eRounds: rounds, coldRounds: rounds });
}
const SWEEP_BATCHES = [4, 8, 16, 32, 64, 128];
const MAX_TOKENS = 256;

function need(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the benchmark with \`npm run bench\` (bench/run sets it)`);
  return value;
}

const t0 = performance.now();
const log = (message: string) => console.error(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const perSecond = (run: EmbedRun) => run.chunks / run.seconds;
const tokensPerSecond = (run: EmbedRun) => run.tokens / run.seconds;
/** Rotates the order of contenders each round so none always runs first (or last). */
const rotate = <T>(items: readonly T[], round: number) => items.map((_, i) => items[(i + round) % items.length]!);

mkdirSync(work, { recursive: true });
const loadStart = os.loadavg();

// ---------------------------------------------------------------------------------------------
// Corpus
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
const documents = loadCorpus(root, manifest);
const stage = await loadStage(modelDir);
const chunks = corpusChunks(documents, (text) => stage.countTokens(text), MAX_TOKENS);
const sample = stratifiedSample(chunks, size.sample);
const sweepSample = stratifiedSample(chunks, size.sweepSample);
const histogram = [0, 0, 0, 0, 0, 0];
for (const chunk of chunks) histogram[Math.min(5, Math.floor(chunk.tokens / 50))]!++;
log(`corpus: ${documents.length} documents, ${chunks.length} chunks, ${tokensOf(chunks)} tokens; race sample ${sample.length} chunks`);

// ---------------------------------------------------------------------------------------------
// 1, 2. Embedding race: the embed stage, the Python peer, the raw session, and the levers
const peer = new PythonPeer(python, path.join(root, 'bench', 'peer.py'));
const peerVersions = await peer.call<Record<string, string>>({ cmd: 'versions' });
const peerLoad = await peer.call<{ intra_op_threads: number }>({
  cmd: 'load',
  onnx: path.join(modelDir, 'onnx', 'model.onnx'),
  tokenizer: path.join(modelDir, 'tokenizer.json'),
  threads: 0, // onnxruntime's default, as onnxruntime-node gets it from transformers.js
  max_tokens: MAX_TOKENS,
});
const writeTexts = async (name: string, items: readonly BenchChunk[]) => {
  const file = path.join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(items.map((c) => c.text)));
  await peer.call({ cmd: 'texts', file });
};
await writeTexts('race', sample);
const raw = await loadRaw(modelDir);
const feeds = prepareFeeds(raw, sample, batchTokens);
const pipelinePooling = await loadVariant(modelDir, { pipelinePooling: true });
const q8 = await loadStage(modelDir, 'q8');
const oneThread = await loadVariant(modelDir, { sessionOptions: { intraOpNumThreads: 1 } });

type Contender = { name: string; run: (keep: boolean) => Promise<EmbedRun> };
const peerRun = async (batch: number, items: readonly BenchChunk[], vectorsOut?: string): Promise<EmbedRun> => {
  const answer = await peer.call<{ seconds: number; chunks: number }>({ cmd: 'embed', batch, ...(vectorsOut ? { vectors_out: vectorsOut } : {}) });
  return { seconds: answer.seconds, chunks: answer.chunks, tokens: tokensOf(items) };
};
const peerVectors = path.join(work, 'peer-vectors.f32');
const contenders: Contender[] = [
  { name: 'stage', run: (keep) => runStage(stage, sample, batchTokens, keep) },
  { name: 'peer', run: (keep) => peerRun(32, sample, keep ? peerVectors : undefined) },
  { name: 'raw', run: () => runRaw(raw, feeds, sample) },
  { name: 'pipelinePooling', run: () => runStage(pipelinePooling, sample, batchTokens) },
  { name: 'q8', run: (keep) => runStage(q8, sample, batchTokens, keep) },
  { name: 'oneThread', run: () => runStage(oneThread, sample, batchTokens) },
];
// A warm-up pass each (first calls allocate arenas and are not representative); its vectors
// are the agreement check.
const warm: Record<string, EmbedRun> = {};
for (const contender of contenders) warm[contender.name] = await contender.run(true);
const race: Record<string, EmbedRun[]> = Object.fromEntries(contenders.map((c) => [c.name, []]));
for (let r = 0; r < size.rounds; r++) {
  for (const contender of rotate(contenders, r)) race[contender.name]!.push(await contender.run(false));
  log(`race round ${r + 1}/${size.rounds}: ` + contenders.map((c) => `${c.name} ${perSecond(race[c.name]!.at(-1)!).toFixed(1)}`).join(', ') + ' chunks/s');
}
const stageVectors = warm.stage!.vectors!;
const peerFloats = new Float32Array(readFileSync(peerVectors).buffer.slice(0));
const agreement = sample.map((_, i) => cosineSimilarity(stageVectors[i]!, peerFloats.subarray(i * 384, (i + 1) * 384)));
const q8Drift = sample.map((_, i) => cosineSimilarity(stageVectors[i]!, warm.q8!.vectors![i]!));
const rate = (name: string) => race[name]!.map(perSecond);
const embed = {
  sampleChunks: sample.length,
  sampleTokens: tokensOf(sample),
  batchTokens,
  rounds: size.rounds,
  chunksPerSecond: Object.fromEntries(contenders.map((c) => [c.name, summarize(rate(c.name))])),
  tokensPerSecond: Object.fromEntries(contenders.map((c) => [c.name, summarize(race[c.name]!.map(tokensPerSecond))])),
  stageVsPeer: ratio(rate('stage'), rate('peer')),
  stageVsRaw: ratio(rate('stage'), rate('raw')),
  peerVsRaw: ratio(rate('peer'), rate('raw')),
  levers: {
    pipelinePooling: ratio(rate('pipelinePooling'), rate('stage')),
    q8: ratio(rate('q8'), rate('stage')),
    q8VsPeer: ratio(rate('q8'), rate('peer')),
    oneThread: ratio(rate('oneThread'), rate('stage')),
  },
  agreement: { minCosine: Math.min(...agreement), meanCosine: agreement.reduce((a, b) => a + b, 0) / agreement.length, below0999: agreement.filter((c) => c < 0.999).length },
  q8Drift: { minCosine: Math.min(...q8Drift), meanCosine: q8Drift.reduce((a, b) => a + b, 0) / q8Drift.length, median: median(q8Drift) },
  threads: { node: 'onnxruntime default (intraOpNumThreads unset)', python: `intra_op_num_threads=${peerLoad.intra_op_threads} (default)` },
};
await Promise.all([pipelinePooling.dispose(), oneThread.dispose(), q8.dispose()]);
log(`embed: stage/peer ${embed.stageVsPeer.median.toFixed(2)}, stage/raw ${embed.stageVsRaw.median.toFixed(2)}, min cosine vs peer ${embed.agreement.minCosine.toFixed(5)}`);

// Batch-size sweep, for the plot: the stage at token budgets B×256, the peer at batches of B.
await writeTexts('sweep', sweepSample);
const sweepRuns: { project: Record<number, number[]>; peer: Record<number, number[]> } = { project: {}, peer: {} };
for (let r = 0; r < size.sweepRounds; r++) {
  for (const batch of rotate(SWEEP_BATCHES, r)) {
    const pair = [
      async () => ((sweepRuns.project[batch * MAX_TOKENS] ??= []).push(perSecond(await runStage(stage, sweepSample, batch * MAX_TOKENS)))),
      async () => ((sweepRuns.peer[batch] ??= []).push(perSecond(await peerRun(batch, sweepSample)))),
    ];
    for (const step of r % 2 === 0 ? pair : pair.reverse()) await step();
  }
}
const sweep = {
  sampleChunks: sweepSample.length,
  rounds: size.sweepRounds,
  project: SWEEP_BATCHES.map((b) => ({ batchTokens: b * MAX_TOKENS, chunksPerSecond: summarize(sweepRuns.project[b * MAX_TOKENS]!) })),
  peer: SWEEP_BATCHES.map((b) => ({ batch: b, batchTokens: b * MAX_TOKENS, chunksPerSecond: summarize(sweepRuns.peer[b]!) })),
};
log('sweep: ' + sweep.project.map((p, i) => `${p.batchTokens}: ${p.chunksPerSecond.median.toFixed(1)} vs ${sweep.peer[i]!.chunksPerSecond.median.toFixed(1)}`).join(', '));

// ---------------------------------------------------------------------------------------------
// 7. PDF text extraction vs pypdf
const pdfDocuments = [...documents].sort((a, b) => countWords(b.paragraphs) - countWords(a.paragraphs)).slice(0, size.pdfFiles);
const pdfPaths: string[] = [];
const pdfBytes: Uint8Array[] = [];
for (const [i, document] of pdfDocuments.entries()) {
  const bytes = await makePdf(pagesOf(document.paragraphs, 6), { title: document.name });
  const file = path.join(work, `doc-${i}.pdf`);
  writeFileSync(file, bytes);
  pdfPaths.push(file);
  pdfBytes.push(bytes);
}
const nodePdf = async () => {
  const started = performance.now();
  let pages = 0;
  for (const bytes of pdfBytes) pages += (await pdfToText(bytes, DEFAULT_CONVERT_LIMITS)).pages.length;
  return { seconds: (performance.now() - started) / 1000, pages };
};
await nodePdf();
await peer.call({ cmd: 'pdf', files: pdfPaths });
const pdfRates: { node: number[]; pypdf: number[] } = { node: [], pypdf: [] };
let pdfPages = 0;
for (let r = 0; r < size.pdfRounds; r++) {
  const steps = [
    async () => {
      const result = await nodePdf();
      pdfPages = result.pages;
      pdfRates.node.push(result.pages / result.seconds);
    },
    async () => {
      const result = await peer.call<{ seconds: number; pages: number }>({ cmd: 'pdf', files: pdfPaths });
      pdfRates.pypdf.push(result.pages / result.seconds);
    },
  ];
  for (const step of r % 2 === 0 ? steps : steps.reverse()) await step();
}
const pdf = { files: pdfPaths.length, pages: pdfPages, rounds: size.pdfRounds, pagesPerSecond: { node: summarize(pdfRates.node), pypdf: summarize(pdfRates.pypdf) }, nodeVsPypdf: ratio(pdfRates.node, pdfRates.pypdf) };
peer.close();
log(`pdf: ${pdf.pagesPerSecond.node.median.toFixed(0)} pages/s (pdfjs) vs ${pdf.pagesPerSecond.pypdf.median.toFixed(0)} (pypdf)`);

// ---------------------------------------------------------------------------------------------
// 3, 5. End to end through moto SQS + S3, the worker and Elasticsearch; memory of the worker
const runId = `bench-${process.pid}-${Date.now().toString(36)}`;
const bucket = runId;
const e2eDocuments: Document[] = [];
{
  let estimate = 0;
  for (const document of stratifiedSample(documents, documents.length)) {
    if (estimate >= size.e2eChunks) break;
    e2eDocuments.push(document);
    estimate += Math.ceil(countWords(document.paragraphs) / 130);
  }
}
const files = await makeFiles(e2eDocuments);
const coldFile: BenchFile = { key: 'cold/hello.txt', bytes: Buffer.from(documents[0]!.paragraphs.slice(0, 3).join('\n\n')), format: 'txt' };
await createBucket(bucket, [...files, coldFile]);
// What the worker will embed: the same files converted and split by the same code and settings.
const e2eChunks: BenchChunk[] = [];
// Every text the split stage asks to count (windows, and the halves of windows over the limit).
const countedTexts: string[] = [];
for (const file of files) {
  const converted = await convert(file.bytes, path.posix.basename(file.key), DEFAULT_CONVERT_LIMITS);
  const countTokens = (text: string) => {
    countedTexts.push(text);
    return stage.countTokens(text);
  };
  for (const chunk of splitText(converted, { ...settings.split, maxTokens: Math.min(settings.split.maxTokens, stage.modelMaxTokens), countTokens })) {
    e2eChunks.push({ id: `${file.key}#${chunk.splitId}`, text: chunk.content, tokens: chunk.tokens });
  }
}
const workerEnv = (queueUrl: string, index: string, port: number): Record<string, string> => ({
  SQS_QUEUE_URL: queueUrl,
  ELASTICSEARCH_INDEX: index,
  EMBEDDING_MODEL: modelDir,
  HTTP_PORT: String(port),
  SQS_WAIT_TIME_SECONDS: '1',
  LOG_LEVEL: 'info',
});
// The worker runs with the image's environment for the C allocator (Dockerfile ENV), and once per
// round without it, to show what that setting buys.
const imageEnv = imageAllocatorEnv(root);
const watch = devStackPids(root);
interface E2eRun {
  filesPerSecond: number;
  chunksPerSecond: number;
  chunks: number;
  peakMb: number;
  steadyMb: number;
  stageSeconds: Record<string, number>;
  /** CPU seconds in the measured window, per process, and the machine's busy and available total. */
  cpu: Record<string, number>;
  /** The worker's own CPU seconds per stage in the window (keda_indexer_stage_cpu_seconds_total). */
  stageCpu: Record<string, number>;
  /** Mean texts per model call in the window. */
  textsPerBatch: number;
  /** Padded tokens over tokens in the window. */
  padding: number;
}
const runE2e = async (r: number, label: string, extraEnv: Record<string, string>, cpus?: string, build = cli, node?: string): Promise<E2eRun> => {
  const index = `${runId}-e2e-${label}-${r}`;
  const queueUrl = await createQueue(index);
  await enqueue(queueUrl, bucket, files);
  const port = await freePort();
  const run = await runWorker({
    cli: build,
    env: { ...workerEnv(queueUrl, index, port), ...extraEnv },
    drain: false,
    until: (w) => indexedLines(w).length >= files.length,
    metricsPort: port,
    timeoutMs: 15 * 60_000,
    watch,
    ...(cpus === undefined ? {} : { cpus }),
    ...(node === undefined ? {} : { node }),
  });
  await deleteQueue(queueUrl);
  await deleteIndex(index);
  const indexed = indexedLines(run);
  const ready = run.lines.find((line) => line.msg === 'worker ready');
  if (indexed.length !== files.length || !ready?.time) {
    throw new Error(`end-to-end run indexed ${indexed.length} of ${files.length} files: ${JSON.stringify(run.lines.filter((l) => (l.level ?? 0) >= 40).slice(0, 3))}`);
  }
  const start = ready.time;
  const end = Math.max(...indexed.map((line) => line.time ?? 0));
  const seconds = (end - start) / 1000;
  const chunkCount = indexed.reduce((n, line) => n + (line.chunks ?? 0), 0);
  const window = run.rss.filter((s) => s.at >= start + (end - start) / 2 && s.at <= end).map((s) => s.mb);
  const stageSeconds: Record<string, number> = {};
  for (const line of indexed) for (const [k, v] of Object.entries(line.seconds ?? {})) stageSeconds[k] = (stageSeconds[k] ?? 0) + v;
  const cpu: Record<string, number> = { available: seconds * os.cpus().length };
  for (const [name, samples] of Object.entries(run.cpu)) cpu[name] = cpuBetween(samples, start, end);
  const stageCpu = stageCpuBetween(run.metricsAtReady, run.metricsAtEnd);
  const textsPerBatch = textsPerBatchBetween(run.metricsAtReady, run.metricsAtEnd);
  const padding = paddingBetween(run.metricsAtReady, run.metricsAtEnd);
  return { filesPerSecond: files.length / seconds, chunksPerSecond: chunkCount / seconds, chunks: chunkCount, peakMb: run.peakMb, steadyMb: median(window), stageSeconds, cpu, stageCpu, textsPerBatch, padding };
};
// What reusing the split stage's token ids saves the embed stage: tokenizing these chunks once
// more, as the embed stage did before (the tokenizer the model runs with, with padding and
// truncation, one call per chunk).
const tokenizeSeconds: number[] = [];
// Lever: the split stage's counting, by the tokenizer on each whole text against word by word
// (app/src/embed/word-tokens.ts) with a memo started afresh, as a new worker's, and warm, as one
// that has seen these words (a worker's memo lives as long as it does).
const countingSeconds = { wholeText: [] as number[], wordsFresh: [] as number[], wordsWarm: [] as number[] };
const cpuSecondsOf = (run: () => void): number => {
  const cpuBefore = process.cpuUsage();
  run();
  const used = process.cpuUsage(cpuBefore);
  return (used.user + used.system) / 1e6;
};
const tokenizeOnce = () => {
  tokenizeSeconds.push(cpuSecondsOf(() => e2eChunks.forEach((chunk) => stage.countTokens(chunk.text))));
  const byWords = wordTokenEncoder(raw.tokenizer);
  if (!('encoder' in byWords)) throw new Error(`the bench's model cannot be counted word by word: ${byWords.obstacle}`);
  const { encoder } = byWords;
  countingSeconds.wholeText.push(cpuSecondsOf(() => countedTexts.forEach((text) => raw.tokenizer.encode(text))));
  countingSeconds.wordsFresh.push(cpuSecondsOf(() => countedTexts.forEach((text) => encoder(text))));
  countingSeconds.wordsWarm.push(cpuSecondsOf(() => countedTexts.forEach((text) => encoder(text))));
};
const e2eRuns: E2eRun[] = [];
const e2eDefaultMalloc: E2eRun[] = [];
const embedOnly: number[] = [];
const embedOnlyCpu: number[] = [];
// The Node.js the image runs (Dockerfile: node:22), fetched from the npm registry by
// scripts/fetch-node: start-up is mostly Node's own work (booting, compiling the bundle), and its
// compilers and garbage collector are the worker's overhead, so the machine's Node 20 is not what
// a pod runs. Cold starts and the isolated rounds are measured on both.
const imageNode = (() => {
  try {
    const binary = execFileSync(path.join(root, 'scripts', 'fetch-node'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    return { binary, version: execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim() };
  } catch (error) {
    log(`runs on the image's Node skipped: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
})();
// The image carries Node's compile cache for its bundle (Dockerfile, scripts/compile-cache.js):
// runs on the image's Node read one made the same way for their build.
const appDirOf = (build: string) => path.dirname(path.dirname(build));
const imageNodeEnv = imageNode ? imageCompileCacheEnv(root, imageNode.binary, appDirOf(cli)) : {};
const baselineImageNodeEnv = imageNode && baselineCli ? imageCompileCacheEnv(root, imageNode.binary, appDirOf(baselineCli)) : {};
// Isolated mode: the services (and this harness) on one half of the cores, the worker and its
// embed-only reference on the other, alternating with the shared-cores rounds.
const cores: CoreSplit | { unavailable: string } = isolatedMode ? splitCores() : { unavailable: 'skipped (--no-isolated)' };
const isolatedRuns: E2eRun[] = [];
const isolatedEmbedOnly: { chunksPerSecond: number; cpuSeconds: number }[] = [];
// The same pair on the image's Node: the worker, and its reference on that Node too.
const isolatedImageNodeRuns: E2eRun[] = [];
const isolatedImageNodeEmbedOnly: { chunksPerSecond: number; cpuSeconds: number }[] = [];
// Lever: as many intra-op threads as the pinned cores, not onnxruntime's default (every core of the
// machine, whatever the process's affinity).
const isolatedEmbedOnlyPinnedThreads: number[] = [];
const isolatedBaselineRuns: E2eRun[] = [];
const servicePids = [...Object.values(watch), process.pid];
const isolated = async <T>(split: CoreSplit, step: () => Promise<T>): Promise<T> => {
  pin(servicePids, split.services);
  try {
    return await step();
  } finally {
    pin(servicePids, split.all);
  }
};
await runStage(stage, e2eChunks.slice(0, 64), batchTokens);
for (let r = 0; r < size.e2eRounds; r++) {
  const steps = [
    async () => {
      e2eRuns.push(await runE2e(r, 'image', imageEnv));
    },
    async () => {
      const cpuBefore = process.cpuUsage();
      embedOnly.push(perSecond(await runStage(stage, e2eChunks, batchTokens)));
      const used = process.cpuUsage(cpuBefore);
      embedOnlyCpu.push((used.user + used.system) / 1e6);
    },
    async () => {
      e2eDefaultMalloc.push(await runE2e(r, 'glibc-default', {}));
    },
    async () => {
      await Promise.resolve(tokenizeOnce());
    },
  ];
  if ('worker' in cores) {
    const split = cores;
    steps.push(
      async () => {
        isolatedRuns.push(await isolated(split, () => runE2e(r, 'isolated', imageEnv, split.worker)));
      },
      async () => {
        isolatedEmbedOnly.push(
          await isolated(split, () => runEmbedOnly({ root, work, modelDir, chunks: e2eChunks, batchTokens, cpus: split.worker, env: imageEnv })),
        );
      },
      ...(baselineCli === undefined
        ? []
        : [
            async () => {
              isolatedBaselineRuns.push(await isolated(split, () => runE2e(r, 'isolated-baseline', imageEnv, split.worker, baselineCli)));
            },
          ]),
      ...(imageNode === undefined
        ? []
        : [
            async () => {
              isolatedImageNodeRuns.push(await isolated(split, () => runE2e(r, 'isolated-image-node', { ...imageEnv, ...imageNodeEnv }, split.worker, cli, imageNode.binary)));
            },
            async () => {
              isolatedImageNodeEmbedOnly.push(
                await isolated(split, () =>
                  runEmbedOnly({ root, work, modelDir, chunks: e2eChunks, batchTokens, cpus: split.worker, env: imageEnv, node: imageNode.binary }),
                ),
              );
            },
          ]),
      async () => {
        const env = { ...imageEnv, EMBEDDING_THREADS: String(split.worker.split(',').length) };
        const run = await isolated(split, () => runEmbedOnly({ root, work, modelDir, chunks: e2eChunks, batchTokens, cpus: split.worker, env }));
        isolatedEmbedOnlyPinnedThreads.push(run.chunksPerSecond);
      },
    );
  }
  for (const step of rotate(steps, r)) await step();
  const last = e2eRuns.at(-1)!;
  log(
    `e2e round ${r + 1}: ${last.chunksPerSecond.toFixed(1)} chunks/s end to end (steady RSS ${last.steadyMb.toFixed(0)} MB; ` +
      `${e2eDefaultMalloc.at(-1)!.steadyMb.toFixed(0)} MB with glibc's default), ${embedOnly.at(-1)!.toFixed(1)} embed only; ` +
      `CPU s in the window: ${Object.entries(last.cpu).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
  );
  const lastIsolated = isolatedRuns.at(-1);
  if (lastIsolated) {
    log(
      `isolated round ${r + 1}: ${lastIsolated.chunksPerSecond.toFixed(1)} chunks/s end to end, ${isolatedEmbedOnly.at(-1)!.chunksPerSecond.toFixed(1)} embed only; ` +
        `worker CPU s by stage: ${Object.entries(lastIsolated.stageCpu).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`,
    );
  }
}
const stageCpuSummary = (runs: readonly E2eRun[]) =>
  Object.fromEntries(Object.keys(runs[0]?.stageCpu ?? {}).map((stage) => [stage, summarize(runs.map((run) => run.stageCpu[stage] ?? Number.NaN))]));
// What the cores did while the worker ran, per round: who used the CPU, and how much of it the
// embedding alone needs (its CPU seconds for the same chunks, measured embed-only). When the
// machine is busy throughout, efficiency cannot exceed embedding's share of the busy time.
const share = (pick: (run: E2eRun, i: number) => number) => summarize(e2eRuns.map(pick));
const e2e = {
  files: files.length,
  formats: Object.fromEntries(['md', 'txt', 'html', 'pdf', 'docx'].map((f) => [f, files.filter((x) => x.format === f).length])),
  chunks: e2eChunks.length,
  workerChunks: e2eRuns[0]?.chunks,
  rounds: size.e2eRounds,
  concurrency: settings.worker.concurrency,
  imageEnv,
  filesPerSecond: summarize(e2eRuns.map((r) => r.filesPerSecond)),
  chunksPerSecond: summarize(e2eRuns.map((r) => r.chunksPerSecond)),
  embedOnlyChunksPerSecond: summarize(embedOnly),
  embedOnlyCpuSeconds: summarize(embedOnlyCpu),
  efficiency: ratio(e2eRuns.map((r) => r.chunksPerSecond), embedOnly),
  stageSecondsSummed: e2eRuns[0]?.stageSeconds,
  stageCpuSeconds: stageCpuSummary(e2eRuns),
  /** CPU seconds to tokenize the chunks once more: what reusing the split stage's ids saves. */
  retokenizeCpuSeconds: summarize(tokenizeSeconds),
  /** The split stage's token counting of these files, by the tokenizer and word by word (CPU s). */
  tokenCounting: {
    texts: countedTexts.length,
    words: countedTexts.reduce((n, text) => n + text.split(WORD_GAPS).filter(Boolean).length, 0),
    wholeTextCpuSeconds: summarize(countingSeconds.wholeText),
    wordsFreshCpuSeconds: summarize(countingSeconds.wordsFresh),
    wordsWarmCpuSeconds: summarize(countingSeconds.wordsWarm),
    freshVsWholeText: ratio(countingSeconds.wordsFresh, countingSeconds.wholeText),
    warmVsWholeText: ratio(countingSeconds.wordsWarm, countingSeconds.wholeText),
  },
  isolated:
    'worker' in cores && isolatedRuns.length > 0
      ? {
          measured: true as const,
          cores: { services: cores.services, worker: cores.worker },
          pinned: [...Object.keys(watch), 'harness'],
          chunksPerSecond: summarize(isolatedRuns.map((r) => r.chunksPerSecond)),
          embedOnlyChunksPerSecond: summarize(isolatedEmbedOnly.map((r) => r.chunksPerSecond)),
          embedOnlyCpuSeconds: summarize(isolatedEmbedOnly.map((r) => r.cpuSeconds)),
          efficiency: ratio(isolatedRuns.map((r) => r.chunksPerSecond), isolatedEmbedOnly.map((r) => r.chunksPerSecond)),
          stageCpuSeconds: stageCpuSummary(isolatedRuns),
          /** With --baseline: this worker's isolated chunks/s over the baseline build's, same rounds. */
          vsBaseline:
            isolatedBaselineRuns.length > 0
              ? {
                  rev: process.env.BENCH_BASELINE_REV ?? '?',
                  chunksPerSecond: summarize(isolatedBaselineRuns.map((r) => r.chunksPerSecond)),
                  efficiency: ratio(isolatedBaselineRuns.map((r) => r.chunksPerSecond), isolatedEmbedOnly.map((r) => r.chunksPerSecond)),
                  throughput: ratio(isolatedRuns.map((r) => r.chunksPerSecond), isolatedBaselineRuns.map((r) => r.chunksPerSecond)),
                  stageCpuSeconds: stageCpuSummary(isolatedBaselineRuns),
                  textsPerBatch: summarize(isolatedBaselineRuns.map((r) => r.textsPerBatch)),
                }
              : undefined,
          /** Lever: the reference with EMBEDDING_THREADS = the pinned cores, over the reference as configured. */
          pinnedThreadsVsDefault: ratio(isolatedEmbedOnlyPinnedThreads, isolatedEmbedOnly.map((r) => r.chunksPerSecond)),
          /** Texts per model call: the worker's (from its metrics) and the reference's (all chunks planned at once). */
          textsPerBatch: { worker: summarize(isolatedRuns.map((r) => r.textsPerBatch)), reference: e2eChunks.length / planBatches(e2eChunks, batchTokens).length },
          /** Padded tokens over tokens: the worker's model calls, and the reference's plan of every chunk at once. */
          padding: { worker: summarize(isolatedRuns.map((r) => r.padding)), reference: plannedPadding(e2eChunks, batchTokens) },
          /**
           * CPU efficiency: the reference's CPU seconds over the worker's (all stages) for the same
           * chunks. Unlike chunks/s it does not move when other processes of a busy machine take
           * turns on the pinned cores.
           */
          cpuEfficiency: ratio(
            isolatedEmbedOnly.map((r) => r.cpuSeconds),
            isolatedRuns.map((r) => Object.values(r.stageCpu).reduce((sum, seconds) => sum + seconds, 0)),
          ),
          /** The worker's embed-stage CPU over the reference's for the same chunks. */
          embedCpuVsReference: ratio(isolatedRuns.map((r) => r.stageCpu.embed ?? Number.NaN), isolatedEmbedOnly.map((r) => r.cpuSeconds)),
          steadyRssMb: summarize(isolatedRuns.map((r) => r.steadyMb)),
          /** The worker and its reference both on the image's Node, same rounds. */
          imageNode:
            imageNode !== undefined && isolatedImageNodeRuns.length > 0
              ? {
                  version: imageNode.version,
                  chunksPerSecond: summarize(isolatedImageNodeRuns.map((r) => r.chunksPerSecond)),
                  embedOnlyChunksPerSecond: summarize(isolatedImageNodeEmbedOnly.map((r) => r.chunksPerSecond)),
                  efficiency: ratio(isolatedImageNodeRuns.map((r) => r.chunksPerSecond), isolatedImageNodeEmbedOnly.map((r) => r.chunksPerSecond)),
                  cpuEfficiency: ratio(
                    isolatedImageNodeEmbedOnly.map((r) => r.cpuSeconds),
                    isolatedImageNodeRuns.map((r) => Object.values(r.stageCpu).reduce((sum, seconds) => sum + seconds, 0)),
                  ),
                  stageCpuSeconds: stageCpuSummary(isolatedImageNodeRuns),
                  /** Its throughput over the worker's on this machine's Node, same rounds. */
                  vsMachineNode: ratio(isolatedImageNodeRuns.map((r) => r.chunksPerSecond), isolatedRuns.map((r) => r.chunksPerSecond)),
                  steadyRssMb: summarize(isolatedImageNodeRuns.map((r) => r.steadyMb)),
                }
              : undefined,
        }
      : { measured: false as const, skipped: 'unavailable' in cores ? cores.unavailable : 'no rounds' },
  rssMb: { peak: summarize(e2eRuns.map((r) => r.peakMb)), steady: summarize(e2eRuns.map((r) => r.steadyMb)) },
  glibcDefault: {
    rssMb: { peak: summarize(e2eDefaultMalloc.map((r) => r.peakMb)), steady: summarize(e2eDefaultMalloc.map((r) => r.steadyMb)) },
    chunksPerSecond: summarize(e2eDefaultMalloc.map((r) => r.chunksPerSecond)),
    imageVsDefaultThroughput: ratio(e2eRuns.map((r) => r.chunksPerSecond), e2eDefaultMalloc.map((r) => r.chunksPerSecond)),
  },
  cpu: {
    cores: os.cpus().length,
    secondsInWindow: Object.fromEntries(Object.keys(e2eRuns[0]?.cpu ?? {}).map((name) => [name, share((run) => run.cpu[name] ?? Number.NaN)])),
    machineBusyShare: share((run) => (run.cpu.machine ?? Number.NaN) / (run.cpu.available ?? Number.NaN)),
    embeddingShareOfBusy: share((run, i) => (embedOnlyCpu[i] ?? Number.NaN) / (run.cpu.machine ?? Number.NaN)),
  },
};

// ---------------------------------------------------------------------------------------------
// 4. Cold start: spawn → /readyz 200, and → first file indexed (one message waiting). The index
// exists already, as it does when KEDA scales workers up from zero.
const coldIndex = `${runId}-cold`;
{
  const es = createElasticsearchClient(settings.elasticsearch);
  await new ElasticsearchSink(es, { ...settings.elasticsearch, index: coldIndex }).ensureIndex(stage.dimensions);
  await es.close();
}
type ColdRun = { ready: number; first: number; modelLoaded: number; startupSeconds: number };
const coldStartOnce = async (r: number, label: string, build: string, node?: string, extraEnv: Record<string, string> = {}): Promise<ColdRun> => {
  const index = coldIndex;
  const queueUrl = await createQueue(`${runId}-cold-${label}-${r}`);
  await enqueue(queueUrl, bucket, [coldFile]);
  const port = await freePort();
  const run = await runWorker({
    cli: build,
    ...(node === undefined ? {} : { node }),
    env: { ...workerEnv(queueUrl, index, port), ...extraEnv },
    drain: false,
    pollReadyz: port,
    until: (w) => w.readyAt !== undefined && indexedLines(w).length > 0,
    timeoutMs: 120_000,
  });
  await deleteQueue(queueUrl);
  const first = indexedLines(run)[0];
  const loaded = run.lines.find((line) => line.msg === 'model loaded');
  const ready = run.lines.find((line) => line.msg === 'worker ready');
  if (!first || run.readyAt === undefined) throw new Error(`cold start run (${label}) did not become ready and index its file`);
  return {
    ready: (run.readyAt - run.spawnedAt) / 1000,
    first: (first.seenAt - run.spawnedAt) / 1000,
    modelLoaded: ((loaded?.time ?? Number.NaN) - run.spawnedAt) / 1000,
    startupSeconds: ready?.startupSeconds ?? Number.NaN,
  };
};
// A busy machine, made the same way every run: one busy loop per core, at the worker's priority,
// for as long as the cold start takes. The worker then gets about half of each core.
const BUSY_LOOPS = os.cpus().length;
const whileBusy = async <T>(step: () => Promise<T>): Promise<T> => {
  const loops = Array.from({ length: BUSY_LOOPS }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  try {
    return await step();
  } finally {
    for (const loop of loops) loop.kill('SIGKILL');
  }
};
const coldRuns: ColdRun[] = [];
const baselineColdRuns: ColdRun[] = [];
const busyColdRuns: ColdRun[] = [];
const busyBaselineColdRuns: ColdRun[] = [];
const imageColdRuns: ColdRun[] = [];
const busyImageColdRuns: ColdRun[] = [];
const busyImageBaselineColdRuns: ColdRun[] = [];
const busyImageUncachedColdRuns: ColdRun[] = [];
for (let r = 0; r < size.coldRounds; r++) {
  const steps = [
    async () => void coldRuns.push(await coldStartOnce(r, 'this', cli)),
    async () => void busyColdRuns.push(await whileBusy(() => coldStartOnce(r, 'busy', cli))),
  ];
  if (baselineCli) {
    steps.push(async () => void baselineColdRuns.push(await coldStartOnce(r, 'baseline', baselineCli)));
    steps.push(async () => void busyBaselineColdRuns.push(await whileBusy(() => coldStartOnce(r, 'busy-baseline', baselineCli))));
  }
  if (imageNode) {
    const node = imageNode.binary;
    steps.push(async () => void imageColdRuns.push(await coldStartOnce(r, 'image-node', cli, node, imageNodeEnv)));
    steps.push(async () => void busyImageColdRuns.push(await whileBusy(() => coldStartOnce(r, 'busy-image-node', cli, node, imageNodeEnv))));
    if (baselineCli) steps.push(async () => void busyImageBaselineColdRuns.push(await whileBusy(() => coldStartOnce(r, 'busy-image-node-baseline', baselineCli, node, baselineImageNodeEnv))));
    // Lever: the same busy start without any compile cache (the CLI otherwise enables Node's own).
    if ('NODE_COMPILE_CACHE' in imageNodeEnv) {
      const uncached = { NODE_DISABLE_COMPILE_CACHE: '1' };
      steps.push(async () => void busyImageUncachedColdRuns.push(await whileBusy(() => coldStartOnce(r, 'busy-image-node-uncached', cli, node, uncached))));
    }
  }
  for (const step of rotate(steps, r)) await step();
}
await deleteIndex(coldIndex);
// Where a cold start goes, each part in a fresh process.
const importSeconds = (specifier: string) => {
  const code = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', stderr: 'ignore' } as never) as unknown as string;
  return Number(out.trim().split('\n').at(-1)) / 1000;
};
const imports: Record<string, number[]> = {};
const importTargets: Record<string, string> = {
  workerCommand: pathToFileURL(path.join(path.dirname(cli), 'commands', 'worker.js')).href,
  transformers: '@huggingface/transformers',
  awsSdk: '@aws-sdk/client-sqs',
  elasticsearch: '@elastic/elasticsearch',
  pdfjs: 'pdfjs-dist/legacy/build/pdf.mjs',
};
const probe = (mode: string, extra: string[] = []) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'lib', 'probe.ts'), modelDir, mode, ...extra], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { importMs: number; loadMs: number };
};
const optimizedModel = path.join(work, 'model.optimized.onnx');
probe('ort-optimize', [optimizedModel]);
const nodeBoot: number[] = [];
const probes: Record<string, number[]> = { stageFp32: [], stageQ8: [], ort: [], ortPreoptimized: [] };
for (let r = 0; r < size.probeRounds; r++) {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  nodeBoot.push((performance.now() - started) / 1000);
  probes.stageFp32!.push(probe('stage-fp32').loadMs / 1000);
  probes.stageQ8!.push(probe('stage-q8').loadMs / 1000);
  probes.ort!.push(probe('ort').loadMs / 1000);
  probes.ortPreoptimized!.push(probe('ort-preoptimized', [optimizedModel]).loadMs / 1000);
  for (const [name, specifier] of Object.entries(importTargets)) (imports[name] ??= []).push(importSeconds(specifier));
}
const coldStart = {
  rounds: size.coldRounds,
  readySeconds: summarize(coldRuns.map((r) => r.ready)),
  firstFileSeconds: summarize(coldRuns.map((r) => r.first)),
  modelLoadedSeconds: summarize(coldRuns.map((r) => r.modelLoaded)),
  startupSecondsLogged: summarize(coldRuns.map((r) => r.startupSeconds)),
  /** The same cold start with one busy loop per core running beside it (whileBusy). */
  busy: {
    loops: BUSY_LOOPS,
    readySeconds: summarize(busyColdRuns.map((r) => r.ready)),
    firstFileSeconds: summarize(busyColdRuns.map((r) => r.first)),
    /** The baseline's worker started the same way, its rounds alternating with these. */
    baseline:
      busyBaselineColdRuns.length > 0
        ? {
            measured: true as const,
            readySeconds: summarize(busyBaselineColdRuns.map((r) => r.ready)),
            firstFileSeconds: summarize(busyBaselineColdRuns.map((r) => r.first)),
            readyVsBaseline: ratio(busyColdRuns.map((r) => r.ready), busyBaselineColdRuns.map((r) => r.ready)),
            firstFileVsBaseline: ratio(busyColdRuns.map((r) => r.first), busyBaselineColdRuns.map((r) => r.first)),
          }
        : { measured: false as const },
  },
  /** This build's start on the image's Node (scripts/fetch-node), quiet and busy, rounds alternating with the rest. */
  imageNode:
    imageNode && imageColdRuns.length > 0
      ? {
          measured: true as const,
          version: imageNode.version,
          readySeconds: summarize(imageColdRuns.map((r) => r.ready)),
          firstFileSeconds: summarize(imageColdRuns.map((r) => r.first)),
          busy: {
            readySeconds: summarize(busyImageColdRuns.map((r) => r.ready)),
            firstFileSeconds: summarize(busyImageColdRuns.map((r) => r.first)),
            baseline:
              busyImageBaselineColdRuns.length > 0
                ? {
                    measured: true as const,
                    readySeconds: summarize(busyImageBaselineColdRuns.map((r) => r.ready)),
                    readyVsBaseline: ratio(busyImageColdRuns.map((r) => r.ready), busyImageBaselineColdRuns.map((r) => r.ready)),
                  }
                : { measured: false as const },
            /** Lever: the same start with no compile cache at all (NODE_DISABLE_COMPILE_CACHE=1), rounds alternating. */
            uncached:
              busyImageUncachedColdRuns.length > 0
                ? {
                    measured: true as const,
                    readySeconds: summarize(busyImageUncachedColdRuns.map((r) => r.ready)),
                    readyVsUncached: ratio(busyImageColdRuns.map((r) => r.ready), busyImageUncachedColdRuns.map((r) => r.ready)),
                  }
                : { measured: false as const },
          },
        }
      : { measured: false as const },
  baseline:
    baselineColdRuns.length > 0
      ? {
          measured: true as const,
          rev: process.env.BENCH_BASELINE_REV ?? '?',
          readySeconds: summarize(baselineColdRuns.map((r) => r.ready)),
          firstFileSeconds: summarize(baselineColdRuns.map((r) => r.first)),
          readyVsBaseline: ratio(coldRuns.map((r) => r.ready), baselineColdRuns.map((r) => r.ready)),
          firstFileVsBaseline: ratio(coldRuns.map((r) => r.first), baselineColdRuns.map((r) => r.first)),
        }
      : { measured: false as const },
  breakdown: {
    nodeBootSeconds: summarize(nodeBoot),
    createEmbedderFp32Seconds: summarize(probes.stageFp32!),
    createEmbedderQ8Seconds: summarize(probes.stageQ8!),
    ortSessionFp32Seconds: summarize(probes.ort!),
    ortSessionPreoptimizedSeconds: summarize(probes.ortPreoptimized!),
    importSeconds: Object.fromEntries(Object.entries(imports).map(([name, values]) => [name, summarize(values)])),
  },
};
log(
  `cold start: ready ${coldStart.readySeconds.median.toFixed(2)} s, first file ${coldStart.firstFileSeconds.median.toFixed(2)} s` +
    (coldStart.baseline.measured
      ? `; baseline ${coldStart.baseline.rev}: ready ${coldStart.baseline.readySeconds.median.toFixed(2)} s, first file ${coldStart.baseline.firstFileSeconds.median.toFixed(2)} s`
      : '') +
    `; busy ${coldStart.busy.readySeconds.median.toFixed(2)} s` +
    (coldStart.imageNode.measured
      ? `; on the image's Node ${coldStart.imageNode.version}: ready ${coldStart.imageNode.readySeconds.median.toFixed(2)} s, busy ${coldStart.imageNode.busy.readySeconds.median.toFixed(2)} s`
      : ''),
);

// ---------------------------------------------------------------------------------------------
// 6. Pruned production footprint (the Dockerfile's deps stage, in a temporary folder)
let footprint: { nodeModulesMb: number; distMb: number; seconds: number } | { error: string } | { skipped: string };
if (args.has('--no-footprint') || (quick && !args.has('--footprint'))) {
  footprint = { skipped: quick ? 'skipped in --quick (pass --footprint)' : 'skipped (--no-footprint)' };
} else {
  const folder = path.join(work, 'footprint');
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) if (existsSync(path.join(root, file))) writeFileSync(path.join(folder, file), readFileSync(path.join(root, file)));
  const started = performance.now();
  try {
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('sh', [path.join(root, 'scripts', 'prune-runtime'), 'node_modules'], { cwd: folder, stdio: ['ignore', 'ignore', 'pipe'] });
    const du = (p: string) => Number(execFileSync('du', ['-sm', p], { encoding: 'utf8' }).split('\t')[0]);
    footprint = { nodeModulesMb: du(path.join(folder, 'node_modules')), distMb: du(path.dirname(cli)), seconds: (performance.now() - started) / 1000 };
  } catch (error) {
    footprint = { error: error instanceof Error ? error.message.split('\n')[0]! : String(error) };
  }
  rmSync(folder, { recursive: true, force: true });
}
log(`footprint: ${JSON.stringify(footprint)}`);

// ---------------------------------------------------------------------------------------------
// Results
const now = new Date();
const date = now.toISOString().slice(0, 10);
const target = (name: string, value: number, op: '>=' | '<=', goal: number, unit = '') => ({ name, value: round(value, 3), goal: `${op} ${goal}${unit}`, met: op === '>=' ? value >= goal : value <= goal });
const footprintMb = 'nodeModulesMb' in footprint ? footprint.nodeModulesMb : Number.NaN;
const results = {
  date: now.toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
  quick,
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: round(os.totalmem() / 2 ** 30, 1),
    loadAverageStart: loadStart.map((l) => round(l, 2)),
    loadAverageEnd: os.loadavg().map((l) => round(l, 2)),
    node: process.version,
    onnxruntimeNode: JSON.parse(readFileSync(path.join(root, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version as string,
    transformers: JSON.parse(readFileSync(path.join(root, 'node_modules', '@huggingface', 'transformers', 'package.json'), 'utf8')).version as string,
    python: peerVersions,
  },
  model: { dir: path.basename(modelDir), file: 'onnx/model.onnx (fp32)', maxTokens: MAX_TOKENS },
  corpus: {
    sources: manifest.sources.length,
    words: manifest.sources.reduce((n, s) => n + s.words, 0),
    chunks: chunks.length,
    tokens: tokensOf(chunks),
    tokensPerChunkHistogram: Object.fromEntries(histogram.map((n, i) => [i === 5 ? '250+' : `${i * 50}-${i * 50 + 49}`, n])),
  },
  embed,
  sweep,
  e2e,
  coldStart,
  footprint,
  pdf,
  gpu: { measured: false, note: 'unmeasured: no GPU machine was lent to this run' },
  seconds: round((performance.now() - t0) / 1000, 1),
};
const targets = [
  target('embed stage vs Python peer', embed.stageVsPeer.median, '>=', 1.1, '×'),
  target('embed stage vs raw session', embed.stageVsRaw.median, '>=', 0.9, '×'),
  target('pipeline efficiency', e2e.efficiency.median, '>=', 0.85),
  ...(e2e.isolated.measured ? [target('isolated pipeline efficiency', e2e.isolated.efficiency.median, '>=', 0.85)] : []),
  ...(e2e.isolated.measured && e2e.isolated.imageNode
    ? [
        target("isolated pipeline efficiency, image's Node", e2e.isolated.imageNode.efficiency.median, '>=', 0.85),
        target("steady RSS, isolated, image's Node (MB)", e2e.isolated.imageNode.steadyRssMb.median, '<=', 400, ' MB'),
      ]
    : []),
  target('cold start to ready (s)', coldStart.readySeconds.median, '<=', 1.0, ' s'),
  target('steady RSS (MB)', e2e.rssMb.steady.median, '<=', 400, ' MB'),
  target('pruned footprint (MB)', footprintMb, '<=', 250, ' MB'),
];
const full = { ...results, targets };
const resultsDir = path.join(root, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const base = quick ? `${date}-quick` : date;
writeFileSync(path.join(resultsDir, `${base}.json`), JSON.stringify(full, roundReplacer, 1) + '\n');
writeFileSync(path.join(resultsDir, `${base}-batch-budget.svg`), renderSvg(full));
const markdown = renderMarkdown(full, `${base}-batch-budget.svg`);
writeFileSync(path.join(resultsDir, `${base}.md`), markdown);
if (!quick) updateDocs(path.join(root, 'docs', 'benchmarks.md'), markdown.replaceAll('](' + `${base}-batch-budget.svg`, '](../bench/results/' + `${base}-batch-budget.svg`), base);
log(`wrote bench/results/${base}.json, .md and -batch-budget.svg${quick ? '' : '; updated docs/benchmarks.md'}`);
process.exit(0);

function roundReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isInteger(value) ? round(value, 4) : value;
}

export type Results = typeof full;
export type { Summary };
