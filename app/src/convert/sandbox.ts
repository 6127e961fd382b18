// The convert stage run where a runaway converter can be stopped: a small pool of converter
// processes, each with a V8 heap limit, a memory limit on the whole process, and a wall-clock
// deadline per file that ends the process when it passes. Every file is hostile until converted:
// a few KB can inflate to gigabytes of XML, nest deeply enough to stall a recursive parser, or
// draw a PDF page for minutes. In the worker's own process that aborted it (heap), or stopped the
// lease heartbeats and /healthz with the event loop (time). Here the file costs a dead letter with
// its reason, the process is replaced, and the worker goes on serving health checks, heartbeats
// and other files.
//
// Processes, not worker threads: a thread's resourceLimits bound its V8 heap only. A PDF stream
// that inflates to gigabytes grows an ArrayBuffer outside that heap (and an OCR engine allocates
// natively), and a thread's memory cannot be told apart from the rest of the process. A process's
// resident memory can be read (/proc/<pid>/status) and the process killed when it passes its cap.
//
// What a file gets:
//   - the heap limit reached:    too_large, naming CONVERT_MAX_HEAP_MB
//   - the memory limit passed:   too_large, naming CONVERT_MAX_MEMORY_MB
//   - the deadline passed:       timeout, naming CONVERT_MAX_SECONDS
//   - more text than the cap:    too_large, naming CONVERT_MAX_CHARS (never cut silently; parts count)
//   - any other exception:       corrupt (a converter that throws on these bytes will throw again)
//
// This module is both sides: the worker's pool (ConvertSandbox) and the converter process's loop
// (serve, at the bottom), as embed/model-thread.ts is for its thread, so the bundle needs no
// extra entry: the process runs this very module.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { format as formatConsoleArguments } from 'node:util';
import { silentLogger, type Logger } from '../observe/logger.js';
import { ConverterOutputLog, LineSplitter, MAX_OUTPUT_LINE_CHARS, type OutputLevel } from './converter-output.js';
import { detectFormat } from './detect.js';
import { convert } from './index.js';
import { onOcrStart } from './ocr/budget.js';
import { ConversionError, type ConversionFailure, type Converted, type ConvertLimits } from './types.js';

export interface SandboxLimits extends ConvertLimits {
  /** V8 old-generation heap of each converter process, in MB. */
  readonly maxHeapMb: number;
  /** Resident memory of each converter process, in MB: heap, buffers and native allocations together. */
  readonly maxMemoryMb: number;
  /** Most characters of text one file may give. */
  readonly maxChars: number;
}

export interface SandboxOptions {
  /** Converter processes at most; files beyond wait for one. */
  readonly processes: number;
  readonly limits: SandboxLimits;
  /** Where the converter processes' output (library warnings, stderr) is logged; nowhere by default. */
  readonly logger?: Logger;
}

/** What the file pipeline needs of a converter: bytes and a name in, text out. */
export interface FileConverter {
  /** `filePath` names the file in logs (`s3://bucket/key`, a local path); `fileName` by default. */
  convert(bytes: Uint8Array, fileName: string, filePath?: string): Promise<Converted>;
}

/** Set in a converter process's environment: this module then serves conversions. */
const ROLE_VARIABLE = 'KEDA_INDEXER_CONVERTER_PROCESS';
/** How often a busy converter's resident memory is read. */
const MEMORY_CHECK_MS = 100;
/** What a converter process keeps of its stderr, for the message when it dies. */
const STDERR_TAIL = 2048;
/**
 * Console calls a converter process forwards per file; beyond, it only counts them. The worker's
 * log has its own, smaller budget (converter-output.ts): this one bounds the IPC traffic a file
 * that makes a library print in a loop can cause.
 */
const MAX_FORWARDED_CONSOLE_CALLS = 200;

interface ConvertRequest {
  readonly bytes: Uint8Array;
  readonly fileName: string;
  readonly limits: SandboxLimits;
}

/** What a converter process says besides its replies: its console output, and what it found the file to be. */
type ConverterNotice =
  | { readonly output: OutputLevel; readonly text: string }
  /** Console calls of the current file not forwarded (over MAX_FORWARDED_CONSOLE_CALLS). */
  | { readonly consoleCallsDropped: number }
  | { readonly format: string };

type ConvertReply =
  | ConverterNotice
  /** The file's OCR started: its deadline grows by OCR's budget (OCR_MAX_SECONDS), once. */
  | { readonly ocrStarted: true }
  | { readonly ok: true; readonly converted: Converted }
  | { readonly ok: false; readonly reason: ConversionFailure; readonly message: string };

/** Resident memory of a process in MB, or undefined where /proc does not tell (not Linux). */
function residentMb(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

/**
 * How to start this module as a process. Built, it is a file of the bundle; from TypeScript
 * source (tests, tsx), the process needs tsx's loader first.
 */
function processEntry(): { path: string; execArgv: string[] } {
  const url = import.meta.url;
  return { path: fileURLToPath(url), execArgv: url.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [] };
}

/**
 * The V8 flags a converter process runs with. Node keeps a compile cache folder per set of V8
 * flags, so scripts/compile-cache.js fills one for these (at the default heap) beside the
 * worker's: keep its CONVERTER_FLAGS equal (sandbox.test.ts checks).
 */
export function converterFlags(maxHeapMb: number): string[] {
  return [`--max-old-space-size=${maxHeapMb}`, '--max-semi-space-size=8'];
}

// ---------------------------------------------------------------------------------------------
// The worker's side: the pool.

/** One converter process, one file at a time. */
class ConverterProcess {
  private readonly child: ChildProcess;
  private readonly output: ConverterOutputLog;
  private stderr = '';
  dead = false;

  constructor(limits: SandboxLimits, logger: Logger) {
    const entry = processEntry();
    this.child = fork(entry.path, [], {
      // After NODE_OPTIONS, so the pod's own heap setting for the worker does not apply here.
      execArgv: [...entry.execArgv, ...converterFlags(limits.maxHeapMb)],
      env: { ...process.env, [ROLE_VARIABLE]: '1' },
      serialization: 'advanced',
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    // Everything the process says reaches the worker's log as JSON lines (converter-output.ts):
    // its console over IPC (in order with its replies, so lines are told to the right file), and
    // what bypasses the console (a library writing to process.stdout, a worker thread's console,
    // V8's fatal errors) from its pipes.
    const output = (this.output = new ConverterOutputLog(logger, this.child.pid));
    const stdoutLines = new LineSplitter((line) => {
      output.line('info', 'stdout', line);
    });
    const stderrLines = new LineSplitter((line) => {
      output.line('warn', 'stderr', line);
    });
    this.child.stdout?.setEncoding('utf8').on('data', (data: string) => {
      stdoutLines.write(data);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (data: string) => {
      // The tail is also kept whole: a heap abort is recognised from it (run's onExit).
      this.stderr = (this.stderr + data).slice(-STDERR_TAIL);
      stderrLines.write(data);
    });
    this.child.on('message', (notice: ConvertReply) => {
      if ('output' in notice) for (const line of notice.text.split(/\r?\n/)) output.line(notice.output, 'console', line);
      else if ('consoleCallsDropped' in notice) output.droppedInProcess(notice.consoleCallsDropped);
      else if ('format' in notice) output.formatIs(notice.format);
    });
    this.child.on('close', () => {
      stdoutLines.end();
      stderrLines.end();
      output.flush();
    });
    this.idle();
    const markDead = () => {
      this.dead = true;
    };
    this.child.on('error', markDead);
    this.child.on('exit', markDead);
  }

  run(request: ConvertRequest, filePath: string, deadlineMs: number): Promise<Converted> {
    const { child, output } = this;
    const limits = request.limits;
    output.begin({ file: filePath });
    return new Promise<Converted>((resolve, reject) => {
      const end = (error: ConversionError) => {
        detach();
        this.kill();
        reject(error);
      };
      const detach = () => {
        clearTimeout(timer);
        clearInterval(watch);
        child.off('message', onMessage);
        child.off('error', onError);
        child.off('exit', onExit);
        output.flush();
        this.idle();
      };
      let extended = false;
      const onMessage = (reply: ConvertReply) => {
        if ('output' in reply || 'consoleCallsDropped' in reply || 'format' in reply) return; // the constructor's listener logs these
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
      const onError = (error: Error) => {
        end(new ConversionError('corrupt', `the converter process failed: ${error.message}`));
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        // V8 aborts a process whose heap is full, after saying so on stderr.
        if (/heap out of memory|Reached heap limit/i.test(this.stderr)) {
          end(new ConversionError('too_large', `converting it needs more memory than the converter's heap limit (CONVERT_MAX_HEAP_MB=${limits.maxHeapMb})`));
          return;
        }
        end(new ConversionError('corrupt', `the converter process ended (${signal ?? `exit code ${String(code)}`}) while converting it`));
      };
      const started = Date.now();
      const onDeadline = () => {
        end(new ConversionError('timeout', `conversion ran past its time budget (CONVERT_MAX_SECONDS=${Math.round(limits.maxMillis / 1000)}${extended ? `, plus OCR_MAX_SECONDS=${Math.round(limits.ocrMaxMillis / 1000)}` : ''})`));
      };
      let timer = setTimeout(onDeadline, deadlineMs);
      const watch = setInterval(() => {
        const resident = child.pid === undefined ? undefined : residentMb(child.pid);
        if (resident !== undefined && resident > limits.maxMemoryMb) {
          end(new ConversionError('too_large', `converting it needs more than the converter's memory limit (CONVERT_MAX_MEMORY_MB=${limits.maxMemoryMb}; it reached ${Math.round(resident)} MB)`));
        }
      }, MEMORY_CHECK_MS);
      child.on('message', onMessage);
      child.on('error', onError);
      child.on('exit', onExit);
      this.busy();
      child.send(request);
    });
  }

  terminate(): void {
    this.kill();
  }

  private kill(): void {
    this.dead = true;
    this.child.kill('SIGKILL');
  }

  /** An idle converter must not keep a finished command alive: not the process, its channel or its stderr pipe. */
  private idle(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stdout as Socket | null)?.unref();
    (this.child.stderr as Socket | null)?.unref();
  }

  private busy(): void {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stdout as Socket | null)?.ref();
    (this.child.stderr as Socket | null)?.ref();
  }
}

/**
 * Converts files in a pool of processes, started on first use and reused while they stay healthy.
 * A process that ran out of heap, memory or time is ended and replaced by a new one for the next file.
 */
export class ConvertSandbox implements FileConverter {
  private readonly idle: ConverterProcess[] = [];
  private readonly waiting: ((converter: ConverterProcess) => void)[] = [];
  private running = 0;
  private closed = false;

  private readonly logger: Logger;

  constructor(private readonly options: SandboxOptions) {
    this.logger = options.logger ?? silentLogger();
  }

  async convert(bytes: Uint8Array, fileName: string, filePath = fileName): Promise<Converted> {
    const converter = await this.acquire();
    try {
      // The converters check their budget between pages themselves and say more about where they
      // were; the process's deadline is the backstop for a converter stuck inside one step.
      // A file whose OCR starts gets OCR_MAX_SECONDS more (ConverterProcess.run).
      return await converter.run({ bytes, fileName, limits: this.options.limits }, filePath, this.options.limits.maxMillis + 1000);
    } finally {
      this.release(converter);
    }
  }

  /** Ends every idle process; those converting end when their file is done. */
  close(): Promise<void> {
    this.closed = true;
    for (const converter of this.idle.splice(0)) converter.terminate();
    return Promise.resolve();
  }

  private acquire(): Promise<ConverterProcess> {
    if (this.closed) return Promise.reject(new Error('the converter pool is closed'));
    let converter = this.idle.pop();
    while (converter?.dead) converter = this.idle.pop();
    if (converter !== undefined) {
      this.running++;
      return Promise.resolve(converter);
    }
    if (this.running + this.idle.length < this.options.processes) {
      this.running++;
      return Promise.resolve(new ConverterProcess(this.options.limits, this.logger));
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(converter: ConverterProcess): void {
    const healthy = converter.dead ? undefined : converter;
    if (healthy === undefined) converter.terminate();
    const next = this.waiting.shift();
    if (next !== undefined) {
      next(healthy ?? new ConverterProcess(this.options.limits, this.logger));
      return;
    }
    this.running--;
    if (healthy === undefined) return;
    if (this.closed) healthy.terminate();
    else this.idle.push(healthy);
  }
}

// ---------------------------------------------------------------------------------------------
// The converter process: converts what the worker sends, one file at a time.

function failureOf(error: unknown): { reason: ConversionFailure; message: string } {
  if (error instanceof ConversionError) return { reason: error.reason, message: error.message };
  // Anything else a converter throws (a RangeError from a parser, a TypeError on odd structure)
  // comes from these bytes, and would come again on a retry.
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { reason: 'corrupt', message: `the converter failed on this file: ${detail}` };
}

/**
 * Sends what the libraries print through the console to the worker, which logs it as JSON
 * (converter-output.ts), up to MAX_FORWARDED_CONSOLE_CALLS per file. `fileDone` tells the worker
 * how many calls were dropped and starts the count again for the next file.
 */
function forwardConsole(send: (notice: ConverterNotice) => void): { fileDone(): void } {
  let calls = 0;
  const forward =
    (level: OutputLevel) =>
    (...args: unknown[]): void => {
      calls++;
      if (calls > MAX_FORWARDED_CONSOLE_CALLS) return;
      // Cut here too, so one call with megabytes of text does not cross the channel whole.
      send({ output: level, text: formatConsoleArguments(...args).slice(0, MAX_OUTPUT_LINE_CHARS * 8) });
    };
  console.log = console.info = console.debug = forward('info');
  console.warn = console.error = console.trace = forward('warn');
  return {
    fileDone() {
      if (calls > MAX_FORWARDED_CONSOLE_CALLS) send({ consoleCallsDropped: calls - MAX_FORWARDED_CONSOLE_CALLS });
      calls = 0;
    },
  };
}

async function convertRequested(request: ConvertRequest, send: (reply: ConvertReply) => void): Promise<ConvertReply> {
  const { bytes, fileName, limits } = request;
  // The file's time counts from its arrival (a PDF's text pass measures what is left from it).
  const startedAt = Date.now();
  onOcrStart(() => {
    send({ ocrStarted: true });
  });
  // For the log lines only (convert detects it again, and reports a file it cannot place).
  const format = await detectFormat(bytes, fileName).catch(() => undefined);
  if (format !== undefined) send({ format: format.type });
  try {
    const converted = await convert(bytes, fileName, { ...limits, startedAt });
    // A file's parts (an e-mail's attachments) are indexed with it, and count with it.
    const chars = converted.text.length + (converted.parts ?? []).reduce((sum, part) => sum + part.converted.text.length, 0);
    if (chars > limits.maxChars) {
      return { ok: false, ...failureOf(new ConversionError('too_large', `it gives ${chars} characters of text, more than CONVERT_MAX_CHARS=${limits.maxChars}`)) };
    }
    return { ok: true, converted };
  } catch (error) {
    return { ok: false, ...failureOf(error) };
  }
}

function serve(send: (reply: ConvertReply) => void): void {
  // The worker is gone (or restarting): nothing more will come.
  process.on('disconnect', () => process.exit(0));
  const forwarded = forwardConsole(send);
  process.on('message', (request: ConvertRequest) => {
    void convertRequested(request, send).then((reply) => {
      forwarded.fileDone();
      send(reply);
    });
  });
}

const send = process.send?.bind(process);
if (process.env[ROLE_VARIABLE] === '1' && send !== undefined) serve((reply) => send(reply));
