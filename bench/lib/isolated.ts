// The isolated end-to-end mode: Elasticsearch, moto and the harness on one set of cores, the worker
// (and the embed-only reference) on the others, with taskset. What the worker then delivers next to
// what its embed stage alone delivers on the same cores is the worker's own overhead, not the cost
// of sharing cores with the services it writes to.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { planBatches } from '../../app/src/embed/batcher.js';
import type { BenchChunk } from './chunks.js';

export interface CoreSplit {
  /** Cores for Elasticsearch, moto and the harness (taskset list). */
  readonly services: string;
  /** Cores for the worker and the embed-only reference. */
  readonly worker: string;
  /** Every core this process may use: where everything goes back to afterwards. */
  readonly all: string;
}

/** The cores this process may run on, from its affinity (`taskset -p -c`), e.g. [0, 1]. */
function allowedCores(): number[] {
  const out = execFileSync('taskset', ['-p', '-c', String(process.pid)], { encoding: 'utf8' });
  const list = out.split(':').at(-1)!.trim();
  return list.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number) as [number, number | undefined];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  });
}

/** Halves the allowed cores (2 cores: one each), or says why the mode cannot run here. */
export function splitCores(): CoreSplit | { unavailable: string } {
  let cores: number[];
  try {
    cores = allowedCores();
  } catch (error) {
    return { unavailable: `taskset not usable (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  if (cores.length < 2) return { unavailable: `only ${cores.length} core allowed` };
  const half = Math.floor(cores.length / 2);
  return { services: cores.slice(0, half).join(','), worker: cores.slice(half).join(','), all: cores.join(',') };
}

/** Pins every thread of each process (and threads it starts later) to `cpus`. */
export function pin(pids: readonly number[], cpus: string): void {
  for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export interface EmbedOnlyRun {
  readonly chunksPerSecond: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** Runs the embed-only reference (embed-only.ts) in a fresh process pinned to `cpus`. */
export async function runEmbedOnly(options: {
  root: string;
  work: string;
  modelDir: string;
  chunks: readonly BenchChunk[];
  batchTokens: number;
  cpus: string;
  env: Record<string, string>;
  /** The Node binary to run it on (the worker's), this process's by default. */
  node?: string;
}): Promise<EmbedOnlyRun> {
  const file = path.join(options.work, 'embed-only-chunks.json');
  writeFileSync(file, JSON.stringify(options.chunks));
  const script = path.join(options.root, 'bench', 'lib', 'embed-only.ts');
  const child = spawn('taskset', ['-c', options.cpus, options.node ?? process.execPath, '--import', 'tsx', script, options.modelDir, file, String(options.batchTokens)], {
    cwd: options.root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (data: Buffer) => (out += data.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`embed-only reference exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as EmbedOnlyRun;
}

/** keda_indexer_stage_cpu_seconds_total by stage, from a /metrics exposition. */
export function stageCpuOf(exposition: string): Record<string, number> {
  const seconds: Record<string, number> = {};
  for (const match of exposition.matchAll(/^keda_indexer_stage_cpu_seconds_total\{stage="(\w+)"\} (\S+)$/gm)) seconds[match[1]!] = Number(match[2]);
  return seconds;
}

/** What each stage used between two scrapes. */
export function stageCpuBetween(before: string | undefined, after: string | undefined): Record<string, number> {
  const from = stageCpuOf(before ?? '');
  const to = stageCpuOf(after ?? '');
  return Object.fromEntries(Object.entries(to).map(([stage, seconds]) => [stage, seconds - (from[stage] ?? 0)]));
}

/** Texts per model call in the window between two scrapes (keda_indexer_embed_batch_texts). */
export function textsPerBatchBetween(before: string | undefined, after: string | undefined): number {
  const read = (exposition: string | undefined, series: 'sum' | 'count') =>
    Number(new RegExp(`^keda_indexer_embed_batch_texts_${series} (\\S+)$`, 'm').exec(exposition ?? '')?.[1] ?? Number.NaN);
  return (read(after, 'sum') - read(before, 'sum')) / (read(after, 'count') - read(before, 'count'));
}

/**
 * Padded tokens over tokens in the window between two scrapes: what padding cost the model
 * (keda_indexer_embed_padded_tokens_total over keda_indexer_tokens_embedded_total). NaN for a
 * worker that predates the padded-tokens counter (an older --baseline build).
 */
export function paddingBetween(before: string | undefined, after: string | undefined): number {
  const read = (exposition: string | undefined, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(exposition ?? '')?.[1] ?? Number.NaN);
  const delta = (name: string) => read(after, name) - read(before, name);
  return delta('keda_indexer_embed_padded_tokens_total') / delta('keda_indexer_tokens_embedded_total');
}

/** Padded tokens over tokens when every chunk is planned at once (the embed-only reference). */
export function plannedPadding(chunks: readonly { readonly tokens: number }[], batchTokens: number): number {
  const padded = planBatches(chunks, batchTokens).reduce((sum, batch) => sum + Math.max(...batch.map((c) => c.tokens)) * batch.length, 0);
  return padded / chunks.reduce((sum, chunk) => sum + chunk.tokens, 0);
}
