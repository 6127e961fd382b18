// `npm run bench -- --pod-memory`: the worker under the memory limits a pod's container gets.
// Node sizes its V8 heap from the container's limit (process.constrainedMemory()), so the other
// benchmarks, run on this host's 24 GiB, do not show the heap limit, young generation, RSS or
// garbage-collection work of a pod. Here one worker process on the image's Node indexes the
// 2,000-page PDF and the small files of bench/memory.ts, first without a limit and then in a
// memory cgroup per limit, rounds alternating. Needs root for the cgroups (bench/lib/cgroup.ts).
// Invoked by bench/run (which prepares the model, the dev stack and a build of app/src).
//
//   bench/run --pod-memory [--quick] [--limits=2Gi,1Gi,512Mi] [--rounds=<n>] [--pages=<n>]
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMemoryCgroup, parseMemoryQuantity, type MemoryCgroup } from './lib/cgroup.js';
import { drainAndMeasure, makeMemoryFiles, type MemoryRun } from './lib/memory-scenario.js';
import { createBucket, settings } from './lib/pipeline.js';
import { updateDocs, writeResults } from './lib/report.js';
import { median, round } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const option = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = argv.includes('--quick');
/** The chart's default limit (chart/values.yaml resources.limits.memory), half of it, and its request. */
const limits = (option('limits') ?? '2Gi,1Gi,512Mi').split(',').map((text) => ({ name: text.trim(), bytes: parseMemoryQuantity(text) }));
const rounds = Number(option('rounds') ?? (quick ? 1 : 2));
const pageCount = Number(option('pages') ?? (quick ? 500 : settings.convert.maxPages));
const cli = process.env.BENCH_CLI;
const modelDir = process.env.BENCH_MODEL_DIR;
if (!cli || !modelDir) throw new Error('BENCH_CLI and BENCH_MODEL_DIR are not set: run `npm run bench -- --pod-memory` (bench/run sets them)');

const t0 = performance.now();
const log = (message: string) => console.error(`[pod-memory ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${message}`);
// The Node.js the image runs (scripts/fetch-node), not this machine's.
const node = execFileSync(path.join(root, 'scripts', 'fetch-node'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();

interface Variant {
  readonly name: string;
  readonly cgroup?: MemoryCgroup;
}
const variants: Variant[] = [{ name: 'no limit' }, ...limits.map((limit) => ({ name: limit.name, cgroup: createMemoryCgroup(`ki-bench-${process.pid}-${limit.name}`, limit.bytes) }))];
const disposeAll = () => variants.forEach((variant) => variant.cgroup?.dispose());
process.on('exit', disposeAll);

// What V8 makes of each limit: its heap limit, and its young generation once allocation has grown
// it to its maximum (a semi-space is a third of it).
const HEAP_PROBE = `const v8 = require('node:v8');
let keep = [];
for (let i = 0; i < 3e6; i++) { keep.push({ i, a: [i] }); if (keep.length > 2e5) keep = []; }
const young = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
console.log(JSON.stringify({ constrainedMb: (process.constrainedMemory?.() ?? 0) / 2 ** 20, heapLimitMb: v8.getHeapStatistics().heap_size_limit / 2 ** 20, youngMb: young.space_size / 2 ** 20 }));`;
const heap = Object.fromEntries(
  variants.map((variant) => {
    const command = [node, '-e', HEAP_PROBE];
    const [file, ...args] = variant.cgroup ? variant.cgroup.wrap(command) : command;
    const figures = JSON.parse(execFileSync(file!, args, { encoding: 'utf8' })) as { constrainedMb: number; heapLimitMb: number; youngMb: number };
    // constrainedMemory() reads a huge number (no limit) as the limit when there is none.
    return [variant.name, { constrainedMb: figures.constrainedMb > os.totalmem() / 2 ** 20 ? null : round(figures.constrainedMb, 0), heapLimitMb: round(figures.heapLimitMb, 0), youngGenerationMb: round(figures.youngMb, 0) }];
  }),
);
log(`V8 heap by limit: ${JSON.stringify(heap)}`);

const { largePdf, smallFiles } = await makeMemoryFiles(root, { pageCount, wordsPerPage: 100, smallChunks: quick ? 150 : 300 });
const bucket = `bench-pod-memory-${process.pid}-${Date.now().toString(36)}`;
await createBucket(bucket, [largePdf, ...smallFiles]);
log(`large PDF: ${pageCount} pages, ${(largePdf.bytes.byteLength / 2 ** 20).toFixed(1)} MB; small files: ${smallFiles.length}; Node ${nodeVersion}`);

type Scenario = 'large' | 'small';
interface PodRun extends MemoryRun {
  readonly oomKills: number;
}
const runOnce = async (variant: Variant, scenario: Scenario, index: string): Promise<PodRun> => {
  const killsBefore = variant.cgroup?.oomKills() ?? 0;
  const oomKills = () => (variant.cgroup?.oomKills() ?? 0) - killsBefore;
  const run = await drainAndMeasure({
    root,
    bucket,
    index,
    files: scenario === 'large' ? [largePdf] : smallFiles,
    modelDir,
    worker: { cli, node, ...(variant.cgroup ? { wrap: variant.cgroup.wrap } : {}) },
    describe: () => `${oomKills()} OOM kill(s) under ${variant.name}`,
  });
  return { ...run, oomKills: oomKills() };
};

const runs: Record<string, PodRun[]> = {};
const steps = (['large', 'small'] as const).flatMap((scenario) => variants.map((variant) => ({ scenario, variant })));
for (let r = 0; r < rounds; r++) {
  for (const [i, { scenario, variant }] of (r % 2 === 0 ? steps : [...steps].reverse()).entries()) {
    const run = await runOnce(variant, scenario, `${bucket}-${r}-${i}`);
    (runs[`${variant.name}|${scenario}`] ??= []).push(run);
    log(`round ${r + 1}: ${variant.name} ${scenario}: peak ${run.peakMb.toFixed(0)} MB, median ${run.medianMb.toFixed(0)} MB, ${run.chunksPerSecond.toFixed(1)} chunks/s`);
  }
}
disposeAll();

const results = {
  date: new Date().toISOString(),
  command: `npm run bench -- --pod-memory${argv.length > 1 ? ' ' + argv.filter((a) => a !== '--pod-memory').join(' ') : ''}`,
  machine: { cpus: os.cpus().length, memoryGb: round(os.totalmem() / 2 ** 30, 1), loadAverage: os.loadavg().map((l) => round(l, 2)), node: nodeVersion },
  largePdf: { pages: pageCount, megabytes: round(largePdf.bytes.byteLength / 2 ** 20, 1) },
  smallFiles: smallFiles.length,
  rounds,
  heap,
  scenarios: Object.fromEntries(
    Object.entries(runs).map(([key, list]) => [
      key,
      {
        peakMb: round(median(list.map((run) => run.peakMb)), 0),
        peakMbRuns: list.map((run) => round(run.peakMb, 0)),
        medianMb: round(median(list.map((run) => run.medianMb)), 0),
        chunksPerSecond: round(median(list.map((run) => run.chunksPerSecond)), 1),
        chunksPerSecondRuns: list.map((run) => round(run.chunksPerSecond, 1)),
        chunks: list[0]?.chunks ?? 0,
        oomKills: list.reduce((n, run) => n + run.oomKills, 0),
      },
    ]),
  ),
};
const rows = variants.flatMap((variant) =>
  (['large', 'small'] as const).map((scenario) => {
    const s = results.scenarios[`${variant.name}|${scenario}`]!;
    const h = heap[variant.name]!;
    return `| ${variant.name} | ${h.heapLimitMb} | ${h.youngGenerationMb} | ${scenario} | ${s.chunks} | **${s.peakMb}** (${s.peakMbRuns.join(', ')}) | ${s.medianMb} | ${s.chunksPerSecond} (${s.chunksPerSecondRuns.join(', ')}) | ${s.oomKills} |`;
  }),
);
const markdown = [
  `One worker process on the image's Node (${nodeVersion}), default settings and the image's allocator settings, in a memory cgroup ` +
    `per container limit (none: this host's ${results.machine.memoryGb} GiB). Large: one PDF of ${pageCount} pages ` +
    `(${results.largePdf.megabytes} MB); small: ${smallFiles.length} files of every format. Median of ${rounds} round(s), each run in brackets; ` +
    `services on the same ${results.machine.cpus} cores, so chunks/s compare only within this table. Load ${results.machine.loadAverage.join(' / ')} at the end.`,
  '',
  '| container limit | V8 heap limit, MB | young generation, MB | scenario | chunks | peak RSS, MB | median RSS while indexing, MB | chunks/s | OOM kills |',
  '|---|---:|---:|---|---:|---:|---:|---:|---:|',
  ...rows,
  '',
].join('\n');
const base = `${results.date.slice(0, 10)}-pod-memory${quick ? '-quick' : ''}`;
writeResults(root, base, results, markdown);
if (!quick) updateDocs(path.join(root, 'docs', 'benchmarks.md'), markdown, base, { name: 'pod-memory', command: 'npm run bench -- --pod-memory', lead: 'Latest run' });
console.log(markdown);
log(`wrote bench/results/${base}.json and .md${quick ? '' : '; updated docs/benchmarks.md'}`);
process.exit(0);
