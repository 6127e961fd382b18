// Which weights file and onnxruntime session options the embed stage's model runs with, worked
// out without transformers.js: the embedder hands these options to transformers.js, and the
// worker's start uses the plan to load the session before transformers.js is even loaded
// (preload.ts).
import os from 'node:os';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EmbeddingDevice, ResolvedDevice } from './choices.js';
import { effectiveDtype, readModelProfile, WEIGHTS_FILE, type ProfileDtype } from './model-profile.js';

/**
 * Threads when EMBEDDING_THREADS is 0. onnxruntime sizes its pool by the machine's cores whatever
 * the process's CPU affinity, so a worker pinned to one core (taskset, a Kubernetes cpuset) ran
 * two threads on it that wait on each other at every operator: the benchmark's pinned embed-only
 * reference ran 1.68× as fast with one thread (docs/benchmarks.md). Where the affinity allows
 * every core, onnxruntime's own default stays (0).
 */
export function affinityThreads(): number {
  const allowed = os.availableParallelism();
  return allowed < os.cpus().length ? allowed : 0;
}

/** onnxruntime thread options for EMBEDDING_THREADS (0 or absent: affinityThreads()). */
export interface ThreadOptions {
  readonly intraOpNumThreads?: number;
  readonly interOpNumThreads?: number;
}

export function threadOptions(threads: number | undefined): ThreadOptions {
  const count = threads !== undefined && threads > 0 ? threads : affinityThreads();
  return count > 0 ? { intraOpNumThreads: count, interOpNumThreads: 1 } : {};
}

export interface ModelSettings {
  readonly model: string;
  readonly device: EmbeddingDevice;
  readonly dtype: ProfileDtype;
  readonly cacheDir?: string;
  readonly threads?: number;
}

/** A session as transformers.js will ask onnxruntime for it. */
export interface SessionPlan {
  /** The weights file, as the embedder's model file cache hands it over (model-files.ts). */
  readonly file: string;
  readonly device: ResolvedDevice;
  readonly options: ThreadOptions;
}

/**
 * The session the embedder will create, where that is known beforehand: a local model folder, or
 * a hub id already in EMBEDDING_CACHE_DIR, on a device that is not `auto` (which tries CUDA and
 * may fall back). Undefined otherwise; the session then loads when transformers.js asks for it.
 */
export function planSession(settings: ModelSettings): SessionPlan | undefined {
  if (settings.device === 'auto') return undefined;
  let folder: string;
  if (path.isAbsolute(settings.model)) folder = path.resolve(settings.model);
  else if (settings.cacheDir !== undefined && settings.cacheDir !== '') folder = path.resolve(settings.cacheDir, settings.model);
  else return undefined;
  let dtype: ProfileDtype;
  try {
    dtype = effectiveDtype(settings.model, settings.dtype, readModelProfile(settings.model));
  } catch {
    return undefined; // the embedder reports a broken profile
  }
  const file = path.join(folder, WEIGHTS_FILE[dtype]);
  return existsSync(file) ? { file, device: settings.device, options: threadOptions(settings.threads) } : undefined;
}
