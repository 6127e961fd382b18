// The key an interrupted backfill resumes after. Batches are sent several at a time and finish in
// any order, so "the last key sent" is not safe: an earlier batch may still fail. The safe key is
// the last one such that it and every key listed before it are settled (enqueued or skipped).
// Listing order is S3's key order, so --start-after that key re-lists exactly what is unsettled.

export class ResumeTracker {
  /** Keys listed and not yet behind the frontier, by listing position. */
  private readonly keys = new Map<number, string>();
  private readonly settledAhead = new Set<number>();
  private nextPosition = 0;
  /** Lowest position not yet settled. */
  private frontier = 0;
  private safe: string | undefined;

  /** @param startAfter where this run's listing started: still safe when nothing settles. */
  constructor(startAfter?: string) {
    this.safe = startAfter;
  }

  /** Notes a listed key; returns its position, to pass to settled(). */
  listed(key: string): number {
    const position = this.nextPosition++;
    this.keys.set(position, key);
    return position;
  }

  settled(position: number): void {
    if (position < this.frontier || !this.keys.has(position)) return;
    this.settledAhead.add(position);
    while (this.settledAhead.delete(this.frontier)) {
      this.safe = this.keys.get(this.frontier);
      this.keys.delete(this.frontier);
      this.frontier++;
    }
  }

  /** Resume with --start-after this key; undefined: start from the beginning of the prefix. */
  get resumeAfter(): string | undefined {
    return this.safe;
  }

  /** True when every listed key is settled. */
  get complete(): boolean {
    return this.frontier === this.nextPosition;
  }
}
