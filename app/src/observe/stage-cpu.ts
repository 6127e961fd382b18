// CPU seconds per pipeline stage (keda_indexer_stage_cpu_seconds_total{stage}), so an operator or
// the benchmark can see where the worker's CPU goes, not only where its files wait.
//
// How CPU is attributed, and why this way: process.cpuUsage() counts every thread of the process,
// and several files are in flight at once, so "CPU before and after a stage" would count other
// files' work and onnxruntime's threads into whatever stage was being timed. Instead the ledger
// below reads two clocks at every section boundary (entering or leaving any stage):
//   - the main thread's own CPU time, in nanoseconds, from /proc/thread-self/schedstat (Linux;
//     Node 20 has no per-thread CPU API), and
//   - the whole process's CPU time from process.cpuUsage();
// and hands the CPU used since the previous boundary to the stages open in between:
//   1. A synchronous section owns the main thread while it runs, so all main-thread CPU of the
//      interval is its own: exact. These are split (with its token counting), request (building
//      bulk bodies) and embed (building the model's inputs, pooling its output).
//   2. While a model call is open (from a batch leaving the batcher to its vectors coming back),
//      the CPU of every thread but the main one goes to embed: the model thread that runs the
//      session (embed/model-thread.ts) and onnxruntime's intra-op pool.
//   3. Asynchronous sections (fetch, convert, write) share the remaining main-thread CPU equally
//      among the sections open at that moment: interleaved files cannot be told apart without
//      async hooks, whose cost on promise-heavy code (pdf.js) would distort what is measured.
//   4. Whatever is left goes to `other`: polling the queue, the health server, logging, and other
//      threads' CPU while no model call is open (garbage collector helpers, libuv's pool, and
//      onnxruntime's threads spinning a little after a call ends).
// Without /proc (not Linux), the main thread's share cannot be told from the other threads': the
// whole process's CPU is then attributed as if it were the main thread's.
// The process clock is read at every boundary, before the main thread's, on purpose: schedstat
// shows the runtime the scheduler last booked (at a tick or a switch, every few ms), and
// getrusage (process.cpuUsage) books the calling thread's pending runtime first. Reading it only
// where a model call opens or closes saved 1 % of the worker's CPU but left short sections
// (splitting one small file) with no CPU at all: tried and reverted.
import { closeSync, openSync, readSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

/** Stages the ledger attributes CPU to; `request` is building (serializing) bulk request bodies. */
export const CPU_STAGES = ['fetch', 'convert', 'split', 'embed', 'request', 'write', 'other'] as const;
export type CpuStage = (typeof CPU_STAGES)[number];
type AsyncStage = 'fetch' | 'convert' | 'write';
type SyncStage = 'split' | 'request' | 'embed';

/** Nanoseconds of CPU the main thread has used, or undefined where the kernel does not say. */
function mainThreadClock(): (() => number) | undefined {
  if (!isMainThread || process.platform !== 'linux') return undefined;
  let fd: number;
  try {
    // Opened once: thread-self resolves to the opening (main) thread, and re-reading an open /proc
    // file at offset 0 costs a few microseconds.
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return undefined;
  }
  const buffer = Buffer.alloc(128);
  const read = (): number => {
    const n = readSync(fd, buffer, 0, buffer.length, 0);
    const text = buffer.toString('latin1', 0, n);
    return Number(text.slice(0, text.indexOf(' ')));
  };
  // Some kernels built without scheduler statistics print zeros: no use then.
  if (!(read() > 0)) {
    closeSync(fd);
    return undefined;
  }
  return read;
}

const processNanos = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) * 1000;
};

export class StageCpuLedger {
  private readonly totals = new Map<CpuStage, number>(CPU_STAGES.map((stage) => [stage, 0]));
  private readonly openAsync = new Map<AsyncStage, number>();
  private openAsyncCount = 0;
  private readonly syncStack: SyncStage[] = [];
  private modelCalls = 0;
  private lastMain: number;
  private lastProcess: number;

  constructor(
    private readonly mainClock: (() => number) | undefined = mainThreadClock(),
    private readonly processClock: () => number = processNanos,
  ) {
    this.lastProcess = this.processClock();
    this.lastMain = this.mainClock?.() ?? this.lastProcess;
  }

  /** CPU seconds attributed to each stage so far. */
  seconds(): Record<CpuStage, number> {
    this.settle();
    return Object.fromEntries(CPU_STAGES.map((stage) => [stage, (this.totals.get(stage) ?? 0) / 1e9])) as Record<CpuStage, number>;
  }

  /** Runs a synchronous stage (it owns the main thread while it runs). */
  sync<T>(stage: SyncStage, run: () => T): T {
    // Inside a section of the same stage a boundary would move nothing: skip its two clock reads.
    // (The Elasticsearch client's ndserialize calls serialize once per bulk line, both measured:
    // 2,900 of the isolated benchmark run's 5,600 sections, at 2.6 µs each timed directly.)
    if (this.syncStack.at(-1) === stage) return run();
    this.settle();
    this.syncStack.push(stage);
    try {
      return run();
    } finally {
      this.settle();
      this.syncStack.pop();
    }
  }

  /** Runs an asynchronous stage of one file (fetch, convert, write). */
  async measure<T>(stage: AsyncStage, run: () => Promise<T>): Promise<T> {
    this.settle();
    this.openAsync.set(stage, (this.openAsync.get(stage) ?? 0) + 1);
    this.openAsyncCount++;
    try {
      return await run();
    } finally {
      this.settle();
      this.openAsync.set(stage, (this.openAsync.get(stage) ?? 1) - 1);
      this.openAsyncCount--;
    }
  }

  /** Runs one model call (one batch through the embedding model). */
  async model<T>(run: () => Promise<T>): Promise<T> {
    this.settle();
    this.modelCalls++;
    try {
      return await run();
    } finally {
      this.settle();
      this.modelCalls--;
    }
  }

  /** Hands the CPU used since the last boundary to the stages open in between (rules above). */
  private settle(): void {
    const processNow = this.processClock();
    const mainNow = this.mainClock?.() ?? processNow;
    const main = Math.max(0, mainNow - this.lastMain);
    const others = Math.max(0, processNow - this.lastProcess - main);
    this.lastMain = mainNow;
    this.lastProcess = processNow;
    const sync = this.syncStack.at(-1);
    const othersTo: CpuStage = this.modelCalls > 0 ? 'embed' : 'other';
    this.add(othersTo, others);
    if (sync !== undefined) this.add(sync, main);
    else if (this.openAsyncCount > 0) {
      for (const [stage, open] of this.openAsync) if (open > 0) this.add(stage, (main * open) / this.openAsyncCount);
    } else this.add('other', main);
  }

  private add(stage: CpuStage, nanos: number): void {
    this.totals.set(stage, (this.totals.get(stage) ?? 0) + nanos);
  }
}

/** The process's ledger: CPU is a process-wide resource, so every stage reports to this one. */
export const stageCpu = new StageCpuLedger();
