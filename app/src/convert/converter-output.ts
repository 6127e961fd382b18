// What a converter process says (a library's console.log/warn, V8's own messages on stderr) goes
// into the worker's JSON log, one structured line per line said, with the file it was converting
// and the process's pid. Never as raw lines on the worker's stdout or stderr: a log pipeline that
// reads one JSON object per line would split or drop them.
//
// The text comes from libraries reading hostile bytes, so it is bounded and made printable: each
// file gets at most MAX_OUTPUT_LINES_PER_FILE distinct lines, repeats and the rest are counted and
// reported in one line when the file is done, every line is cut at MAX_OUTPUT_LINE_CHARS, and its
// control characters are escaped (terminal-safe.ts), so a file cannot flood the log, forge lines
// or put escape sequences in front of whoever reads it.
import type { Logger } from '../observe/logger.js';
import { printable } from '../terminal-safe.js';

/** `info` for what a library prints as news (console.log/info), `warn` for its warnings and stderr. */
export type OutputLevel = 'info' | 'warn';
/** Where a line came from: the process's console (forwarded over IPC), or its raw stdout/stderr. */
export type OutputStream = 'console' | 'stdout' | 'stderr';

/** Distinct lines logged per file; beyond that lines are only counted. */
export const MAX_OUTPUT_LINES_PER_FILE = 20;
/** Characters kept of one line. */
export const MAX_OUTPUT_LINE_CHARS = 500;

/** What the log lines say of the file being converted. */
export interface ConvertingFile {
  /** The file's path or key (`s3://bucket/key`, or the name the converter was given). */
  readonly file: string;
  /** Its format, once the converter process has detected it (registry type, e.g. `pdf`). */
  format?: string;
}

/** Logs one converter process's output, a budget of lines per file. */
export class ConverterOutputLog {
  private current: ConvertingFile | undefined;
  private readonly seen = new Set<string>();
  private logged = 0;
  private repeated = 0;
  private overBudget = 0;

  constructor(
    private readonly logger: Logger,
    private readonly converterPid: number | undefined,
  ) {}

  /** A new file starts: what the last one left unreported is reported, and the budget starts again. */
  begin(file: ConvertingFile): void {
    this.flush();
    this.current = { ...file };
    this.seen.clear();
    this.logged = 0;
  }

  /** The detected format, for the lines that follow. */
  formatIs(format: string): void {
    if (this.current !== undefined) this.current.format = format;
  }

  /**
   * One line of output. Lines said after a file is done (a library's late timer) still count
   * against that file's budget: they are its.
   */
  line(level: OutputLevel, stream: OutputStream, text: string): void {
    const trimmed = text.trimEnd();
    if (trimmed.trim().length === 0) return;
    const cut = trimmed.length > MAX_OUTPUT_LINE_CHARS;
    const kept = cut ? trimmed.slice(0, MAX_OUTPUT_LINE_CHARS) : trimmed;
    if (this.seen.has(kept)) {
      this.repeated++;
      return;
    }
    if (this.logged >= MAX_OUTPUT_LINES_PER_FILE) {
      this.overBudget++;
      return;
    }
    this.seen.add(kept);
    this.logged++;
    this.logger[level]({ ...this.fields(), stream, output: printable(kept), ...(cut ? { cutAtChars: MAX_OUTPUT_LINE_CHARS, chars: trimmed.length } : {}) }, 'converter output');
  }

  /** Console calls the process itself did not forward (it has a budget of its own): counted as left out. */
  droppedInProcess(calls: number): void {
    this.overBudget += calls;
  }

  /** Reports the lines left out since the last report, if any: one line with their counts. */
  flush(): void {
    if (this.repeated === 0 && this.overBudget === 0) return;
    this.logger.warn(
      { ...this.fields(), droppedLines: this.repeated + this.overBudget, repeatedLines: this.repeated, linesOverBudget: this.overBudget, maxLinesPerFile: MAX_OUTPUT_LINES_PER_FILE },
      'converter output lines left out of the log',
    );
    this.repeated = 0;
    this.overBudget = 0;
  }

  private fields(): Record<string, unknown> {
    const { current } = this;
    return {
      ...(current === undefined ? {} : { file: printable(current.file), ...(current.format === undefined ? {} : { format: printable(current.format) }) }),
      ...(this.converterPid === undefined ? {} : { converterPid: this.converterPid }),
    };
  }
}

/**
 * Cuts a stream's chunks into lines. A line longer than `maxChars` is passed on in pieces rather
 * than buffered without bound (a process can write megabytes without a newline).
 */
export class LineSplitter {
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxChars = MAX_OUTPUT_LINE_CHARS * 4,
  ) {}

  write(chunk: string): void {
    const lines = (this.partial + chunk).split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line);
    while (this.partial.length > this.maxChars) {
      this.onLine(this.partial.slice(0, this.maxChars));
      this.partial = this.partial.slice(this.maxChars);
    }
  }

  /** What is left without a newline at the end, as a last line. */
  end(): void {
    if (this.partial.length > 0) this.onLine(this.partial);
    this.partial = '';
  }
}
