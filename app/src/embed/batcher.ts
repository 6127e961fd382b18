// Shares model calls between files. Chunks from every file in flight wait here briefly, are
// sorted by token length and cut into batches whose padded size (longest × count) fits a token
// budget, the way text-embeddings-inference batches: short chunks no longer pay for a long one's
// padding, and a batch never grows past what the model handles efficiently. One batch runs at a
// time, since onnxruntime already spreads one call over every core.
import { stageCpu } from '../observe/stage-cpu.js';
import type { TextKind } from './embedder.js';

export interface BatchModel {
  embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]>;
}

export interface BatcherOptions {
  /** Padded tokens per model call. */
  readonly batchTokens: number;
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

/** Groups items, sorted longest first, into batches whose padded size fits the budget. */
export function planBatches<T extends { readonly tokens: number }>(items: readonly T[], batchTokens: number): T[][] {
  const sorted = [...items].sort((a, b) => b.tokens - a.tokens);
  const batches: T[][] = [];
  let current: T[] = [];
  let longest = 0;
  for (const item of sorted) {
    if (current.length === 0) longest = item.tokens;
    // Sorted descending, so the first item of a batch fixes its padded length.
    if (current.length > 0 && longest * (current.length + 1) > batchTokens) {
      batches.push(current);
      current = [];
      longest = item.tokens;
    }
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return batches;
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

  private async run(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    const taken = this.queue;
    this.queue = [];
    this.queuedTokens = 0;
    try {
      for (const batch of planBatches(taken, this.options.batchTokens)) {
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
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }
}
