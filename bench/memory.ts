// `npm run bench -- --memory`: does a worker's memory grow with the file? Peak RSS of one worker
// process (default settings, the image's allocator environment) while it indexes one very large
// generated PDF, and while it indexes a set of small files; for this code ("after") and for a
// build of the code before files went through in slices ("before", a git ref), rounds alternating.
// Invoked by bench/run (which prepares the model, the dev stack and a build of app/src).
//
//   bench/run --memory [--quick] [--memory-before=<git ref>] [--pages=<n>] [--words-per-page=<n>] [--rounds=<n>]
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { drainAndMeasure, makeMemoryFiles, type MemoryRun } from './lib/memory-scenario.js';
import { createBucket, imageAllocatorEnv, settings } from './lib/pipeline.js';
import { updateDocs, writeResults } from './lib/report.js';
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
// Files: the bench corpus's prose, as one PDF of `pageCount` pages, its first quarter, and small
// files of every format.
const { largePdf, quarterPdf, smallFiles } = await makeMemoryFiles(root, { pageCount, wordsPerPage: WORDS_PER_PAGE, smallChunks: quick ? 150 : 300 });
const bucket = `bench-memory-${process.pid}-${Date.now().toString(36)}`;
await createBucket(bucket, [largePdf, quarterPdf, ...smallFiles]);
log(`large PDF: ${pageCount} pages (and a quarter of it), ${(largePdf.bytes.byteLength / 2 ** 20).toFixed(1)} MB; small files: ${smallFiles.length}`);

// ---------------------------------------------------------------------------------------------
type Scenario = 'large' | 'quarter' | 'small';
const imageEnv = imageAllocatorEnv(root);
const runOnce = (variant: 'before' | 'after', scenario: Scenario, round: number): Promise<MemoryRun> =>
  drainAndMeasure({
    root,
    bucket,
    index: `${bucket}-${variant}-${scenario}-${round}`,
    files: scenario === 'large' ? [largePdf] : scenario === 'quarter' ? [quarterPdf] : smallFiles,
    modelDir,
    worker: { cli: variant === 'before' ? beforeCli : cli },
  });

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
const base = `${results.date.slice(0, 10)}-memory${quick ? '-quick' : ''}`;
writeResults(root, base, results, markdown);
if (!quick) updateDocs(path.join(root, 'docs', 'benchmarks.md'), markdown, base, { name: 'memory', command: 'npm run bench -- --memory', lead: 'Latest run' });
console.log(markdown);
log(`wrote bench/results/${base}.json and .md${quick ? '' : '; updated docs/benchmarks.md'}`);
process.exit(0);
