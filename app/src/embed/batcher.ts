// Shares model calls between files. Chunks from every file in flight wait here briefly and are
// cut into batches by length (planBatches), the way text-embeddings-inference batches: short
// chunks do not pay for a long one's padding, and a batch never grows past what the model handles
// efficiently. One batch runs at a time, since onnxruntime already spreads one call over every
// core; before each call what waits is planned again, so chunks that arrived meanwhile share it.
import { stageCpu } from '../observe/stage-cpu.js';
import type { ResolvedDevice } from './choices.js';
import type { TextKind } from './embedder.js';

export interface BatchModel {
  embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]>;
}

export interface BatcherOptions {
  /** Padded tokens per model call. */
  readonly batchTokens: number;
  /** What a model call costs beyond its padded tokens, in tokens (callOverheadTokens()). */
  readonly callOverheadTokens?: number;
  /** How long a lone request waits for company before running, in ms. */
  readonly lingerMs: number;
  /** Observes each model call (for metrics). */
  readonly onBatch?: (stats: { texts: number; tokens: number; paddedTokens: number; millis: number }) => void;
}

interface Pending {
  readonly text: string;
  readonly tokens: number;
  readonly resolve: (vector: Float32Array) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * What one model call costs beyond its padded tokens, in tokens. On one core with the raw
 * session a call of 1 × 128 tokens took 21.3 ms and 4 × 128 72.9 ms: about 4.5 ms per call at
 * ~150 µs per token, so 30 tokens. The worker's embed-only reference on these chunks
 * (docs/benchmarks.md) ran alike from 16 to 128 on one core; with 0 (one text per call) it lost
 * 10 % on two cores, where a small call leaves a thread idle.
 */
export const CALL_OVERHEAD_TOKENS = 32;

/**
 * The per-call cost to plan with on a device. On a GPU a call's fixed cost (transfers, kernel
 * launches) is large and padding nearly free until the device is full, so there a call is costed
 * as a whole budget of tokens: the plan then takes as few calls as fit the budget, as the greedy
 * batcher did. Not measured on a GPU yet (no GPU machine has been lent); on the CPU it is measured.
 */
export function callOverheadTokens(device: ResolvedDevice, batchTokens: number): number {
  return device === 'cuda' ? batchTokens : CALL_OVERHEAD_TOKENS;
}

/**
 * Cuts items into batches whose padded size (longest × count) fits the budget, choosing the cut
 * that costs the model least: padded tokens plus `overhead` per call. Filling each batch
 * greedily up to the budget put a 100-token chunk next to a 250-token one whenever they were
 * neighbours in the queue; with a few files in flight that padding was 10 % of the worker's
 * tokens (docs/benchmarks.md). In length order the best cut is a run of neighbours, so a dynamic
 * programme over the sorted items finds it exactly (a queue holds at most a few hundred items,
 * and a batch at most budget ÷ shortest of them).
 */
export function planBatches<T extends { readonly tokens: number }>(items: readonly T[], batchTokens: number, overhead = CALL_OVERHEAD_TOKENS): T[][] {
  const sorted = [...items].sort((a, b) => b.tokens - a.tokens);
  const lengths = sorted.map((item) => item.tokens);
  // cost[j]: least cost of the first j items; start[j]: where the last batch of that cut begins.
  const cost = [0];
  const start = [0];
  for (let j = 1; j <= sorted.length; j++) {
    let best = Number.POSITIVE_INFINITY;
    let bestStart = j - 1;
    for (let i = j - 1; i >= 0; i--) {
      const count = j - i;
      // Sorted descending, so the batch's first item fixes its padded length.
      const padded = (lengths[i] ?? 0) * count;
      if (count > 1 && padded > batchTokens) break;
      const total = (cost[i] ?? 0) + padded + overhead;
      if (total < best) {
        best = total;
        bestStart = i;
      }
    }
    cost.push(best);
    start.push(bestStart);
  }
  const batches: T[][] = [];
  for (let j = sorted.length; j > 0; j = start[j] ?? 0) batches.push(sorted.slice(start[j], j));
  return batches.reverse();
}

export class EmbedBatcher {
  private queue: Pending[] = [];
  private queuedTokens = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly model: BatchModel,
    private readonly options: BatcherOptions,
  ) {}

  /**
   * Embeds one file's chunks (as passages); resolves when all of them are done. Token counts come
   * from the split stage, which measured every chunk with the model's tokenizer already.
   */
  embedPassages(passages: readonly { readonly text: string; readonly tokens: number }[]): Promise<Float32Array[]> {
    const promises = passages.map(
      ({ text, tokens }) =>
        new Promise<Float32Array>((resolve, reject) => {
          this.queue.push({ text, tokens, resolve, reject });
          this.queuedTokens += tokens;
        }),
    );
    this.schedule();
    return Promise.all(promises);
  }

  private schedule(): void {
    if (this.running) return;
    if (this.queuedTokens >= this.options.batchTokens) {
      this.flushSoon(0);
    } else if (this.timer === undefined) {
      this.flushSoon(this.options.lingerMs);
    }
  }

  private flushSoon(delay: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delay);
  }

  /**
   * Runs model calls until the queue is empty. Each call re-plans what waits (planBatches) and
   * takes the batch that holds the oldest text, so texts that arrived while the model was busy
   * join the plan (fuller, evener batches) and no text waits behind newer ones.
   */
  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    try {
      while (this.queue.length > 0) await this.call(this.takeBatch());
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private takeBatch(): Pending[] {
    const oldest = this.queue[0];
    const batch = planBatches(this.queue, this.options.batchTokens, this.options.callOverheadTokens).find((planned) => oldest !== undefined && planned.includes(oldest)) ?? [];
    const taken = new Set(batch);
    this.queue = this.queue.filter((item) => !taken.has(item));
    for (const item of batch) this.queuedTokens -= item.tokens;
    return batch;
  }

  private async call(batch: readonly Pending[]): Promise<void> {
    const started = performance.now();
    try {
      const vectors = await stageCpu.model(() =>
        this.model.embed(
          batch.map((item) => item.text),
          'passage',
        ),
      );
      batch.forEach((item, i) => {
        const vector = vectors[i];
        if (vector) item.resolve(vector);
        else item.reject(new Error('model returned fewer vectors than texts'));
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
    const tokens = batch.reduce((sum, item) => sum + item.tokens, 0);
    this.options.onBatch?.({
      texts: batch.length,
      tokens,
      paddedTokens: (batch[0]?.tokens ?? 0) * batch.length,
      millis: performance.now() - started,
    });
  }
}
