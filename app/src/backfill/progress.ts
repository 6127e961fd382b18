// Progress of a backfill for the person watching: a live bar on a terminal, a plain line every
// few seconds elsewhere (logs of a Kubernetes Job, CI), where a redrawn bar would be noise.
import { SingleBar } from 'cli-progress';
import type { BackfillCounts } from './run.js';

const PLAIN_EVERY_MS = 5_000;

export function skippedTotal(counts: Readonly<BackfillCounts>): number {
  return Object.values(counts.skipped).reduce((sum, n) => sum + n, 0);
}

export class BackfillProgress {
  private readonly bar: SingleBar | undefined;
  private readonly started = performance.now();
  private lastLine = performance.now();

  constructor(
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly dryRun: boolean,
  ) {
    if (stream.isTTY === true) {
      this.bar = new SingleBar({
        format: `backfill [{bar}] listed {total} | ${dryRun ? 'would enqueue' : 'enqueued'} {enqueued} | skipped {skipped} | {rate} msg/s`,
        hideCursor: true,
        stream,
      });
      this.bar.start(0, 0, { enqueued: 0, skipped: 0, rate: '0.0' });
    }
  }

  update(counts: Readonly<BackfillCounts>): void {
    const skipped = skippedTotal(counts);
    const seconds = Math.max(0.001, (performance.now() - this.started) / 1000);
    if (this.bar !== undefined) {
      this.bar.setTotal(counts.listed);
      this.bar.update(counts.enqueued + skipped, { enqueued: counts.enqueued, skipped, rate: (counts.enqueued / seconds).toFixed(1) });
      return;
    }
    if (performance.now() - this.lastLine < PLAIN_EVERY_MS) return;
    this.lastLine = performance.now();
    this.stream.write(`progress  listed ${counts.listed}, ${this.dryRun ? 'would enqueue' : 'enqueued'} ${counts.enqueued}, skipped ${skipped} (${seconds.toFixed(0)} s)\n`);
  }

  stop(): void {
    this.bar?.stop();
  }
}
