// The convert stage run where a runaway converter can be stopped: a small pool of worker threads,
// each with a V8 heap limit, and a wall-clock deadline per file that ends the thread when it
// passes. Every file is hostile until converted: a few KB can inflate to gigabytes of XML, nest
// deeply enough to stall a recursive parser, or draw a PDF page for minutes. On the main thread
// that aborted the process (heap), or stopped the lease heartbeats and /healthz with the event
// loop (time). In a thread, the file costs a dead letter with its reason, the thread is replaced,
// and the main thread goes on serving health checks, heartbeats and other files.
//
// What a file gets:
//   - the heap limit reached:  too_large, naming CONVERT_MAX_HEAP_MB
//   - the deadline passed:     timeout, naming CONVERT_MAX_SECONDS
//   - more text than the cap:  too_large, naming CONVERT_MAX_CHARS (never cut silently)
//   - any other exception:     corrupt (a converter that throws on these bytes will throw again)
//
// This module is both sides: the main thread's pool (ConvertSandbox) and the thread's loop
// (serve, at the bottom), as embed/model-thread.ts does, so the bundle needs no extra entry.
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { threadEntryOf } from '../thread-entry.js';
import { convert } from './index.js';
import { onOcrStart } from './ocr/budget.js';
import { ConversionError, type ConversionFailure, type Converted, type ConvertLimits } from './types.js';

export interface SandboxLimits extends ConvertLimits {
  /** V8 old-generation heap of each converter thread, in MB. */
  readonly maxHeapMb: number;
  /** Most characters of text one file may give. */
  readonly maxChars: number;
}

export interface SandboxOptions {
  /** Converter threads at most; files beyond wait for one. */
  readonly threads: number;
  readonly limits: SandboxLimits;
}

/** What the file pipeline needs of a converter: bytes and a name in, text out. */
export interface FileConverter {
  convert(bytes: Uint8Array, fileName: string): Promise<Converted>;
}

const THREAD_ROLE = 'keda-indexer-convert-thread';

interface ConvertRequest {
  readonly bytes: Uint8Array;
  readonly fileName: string;
  readonly limits: SandboxLimits;
}

type ConvertReply =
  /** The file's OCR started: its deadline grows by OCR's budget (OCR_MAX_SECONDS), once. */
  | { readonly ocrStarted: true }
  | { readonly ok: true; readonly converted: Converted }
  | { readonly ok: false; readonly reason: ConversionFailure; readonly message: string };

// ---------------------------------------------------------------------------------------------
// Main thread: the pool.

/** One converter thread, one file at a time. */
class ConverterThread {
  private readonly worker: Worker;
  dead = false;

  constructor(heapMb: number) {
    const [entry, evaluated] = threadEntryOf(import.meta.url);
    this.worker = new Worker(entry, {
      ...evaluated,
      workerData: { role: THREAD_ROLE },
      // The young generation counts apart from the old one; a small fixed one keeps the thread's
      // whole heap near the limit it is given.
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: 16 },
    });
    // An idle thread must not keep a finished command alive.
    this.worker.unref();
    // Errors and exits while idle: the thread is replaced at its next use.
    const markDead = () => {
      this.dead = true;
    };
    this.worker.on('error', markDead);
    this.worker.on('exit', markDead);
  }

  run(request: ConvertRequest, deadlineMs: number): Promise<Converted> {
    const { worker } = this;
    const limits = request.limits;
    return new Promise<Converted>((resolve, reject) => {
      const detach = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
      };
      let extended = false;
      const onMessage = (reply: ConvertReply) => {
        if ('ocrStarted' in reply) {
          if (extended) return;
          extended = true;
          clearTimeout(timer);
          timer = setTimeout(onDeadline, deadlineMs - (Date.now() - started) + limits.ocrMaxMillis);
          return;
        }
        detach();
        if (reply.ok) resolve(reply.converted);
        else reject(new ConversionError(reply.reason, reply.message));
      };
      const onError = (error: Error & { code?: string }) => {
        detach();
        this.dead = true;
        reject(
          error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new ConversionError('too_large', `converting it needs more memory than the converter's heap limit (CONVERT_MAX_HEAP_MB=${limits.maxHeapMb})`)
            : new ConversionError('corrupt', `the converter failed: ${error.message}`),
        );
      };
      const onExit = (code: number) => {
        detach();
        this.dead = true;
        reject(new ConversionError('corrupt', `the converter thread exited (code ${code})`));
      };
      const started = Date.now();
      const onDeadline = () => {
        detach();
        this.dead = true;
        void worker.terminate();
        reject(new ConversionError('timeout', `conversion ran past its time budget (CONVERT_MAX_SECONDS=${Math.round(limits.maxMillis / 1000)}${extended ? `, plus OCR_MAX_SECONDS=${Math.round(limits.ocrMaxMillis / 1000)}` : ''})`));
      };
      let timer = setTimeout(onDeadline, deadlineMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      // Posted as a copy: the caller's bytes may be a view into a larger pooled buffer.
      worker.postMessage(request);
    });
  }

  terminate(): Promise<number> {
    this.dead = true;
    return this.worker.terminate();
  }
}

/**
 * Converts files in a pool of threads, started on first use and reused while they stay healthy.
 * A thread that ran out of heap or time is ended and replaced by a new one for the next file.
 */
export class ConvertSandbox implements FileConverter {
  private readonly idle: ConverterThread[] = [];
  private readonly waiting: ((thread: ConverterThread) => void)[] = [];
  private running = 0;
  private closed = false;

  constructor(private readonly options: SandboxOptions) {}

  async convert(bytes: Uint8Array, fileName: string): Promise<Converted> {
    const thread = await this.acquire();
    try {
      // The converters check their budget between pages themselves and say more about where they
      // were; the thread's deadline is the backstop for a converter stuck inside one step.
      // A file whose OCR starts gets OCR_MAX_SECONDS more (ConverterThread.run).
      return await thread.run({ bytes, fileName, limits: this.options.limits }, this.options.limits.maxMillis + 1000);
    } finally {
      this.release(thread);
    }
  }

  /** Ends every thread; conversions in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.idle.splice(0).map((thread) => thread.terminate()));
  }

  private acquire(): Promise<ConverterThread> {
    if (this.closed) return Promise.reject(new Error('the converter pool is closed'));
    let thread = this.idle.pop();
    while (thread?.dead) thread = this.idle.pop();
    if (thread !== undefined) {
      this.running++;
      return Promise.resolve(thread);
    }
    if (this.running + this.idle.length < this.options.threads) {
      this.running++;
      return Promise.resolve(new ConverterThread(this.options.limits.maxHeapMb));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(thread: ConverterThread): void {
    const healthy = thread.dead ? undefined : thread;
    if (healthy === undefined) void thread.terminate();
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(healthy ?? new ConverterThread(this.options.limits.maxHeapMb));
      return;
    }
    this.running--;
    if (healthy === undefined) return;
    if (this.closed) void healthy.terminate();
    else this.idle.push(healthy);
  }
}

// ---------------------------------------------------------------------------------------------
// The thread: converts what the main thread sends, one file at a time.

function failureOf(error: unknown): { reason: ConversionFailure; message: string } {
  if (error instanceof ConversionError) return { reason: error.reason, message: error.message };
  // Anything else a converter throws (a RangeError from a parser, a TypeError on odd structure)
  // comes from these bytes, and would come again on a retry.
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { reason: 'corrupt', message: `the converter failed on this file: ${detail}` };
}

function serve(port: MessagePort): void {
  port.on('message', (request: ConvertRequest) => {
    const { bytes, fileName, limits } = request;
    onOcrStart(() => {
      port.postMessage({ ocrStarted: true } satisfies ConvertReply);
    });
    convert(bytes, fileName, limits).then(
      (converted) => {
        if (converted.text.length > limits.maxChars) {
          const failure = new ConversionError('too_large', `it gives ${converted.text.length} characters of text, more than CONVERT_MAX_CHARS=${limits.maxChars}`);
          port.postMessage({ ok: false, ...failureOf(failure) } satisfies ConvertReply);
          return;
        }
        port.postMessage({ ok: true, converted } satisfies ConvertReply);
      },
      (error: unknown) => {
        port.postMessage({ ok: false, ...failureOf(error) } satisfies ConvertReply);
      },
    );
  });
}

if (!isMainThread && parentPort !== null && (workerData as { role?: unknown } | null)?.role === THREAD_ROLE) serve(parentPort);
