// JSON logs (pino). Stages receive a Logger and log facts about files (keys, counts, durations,
// outcomes), never document text, vectors or credentials.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go; stderr by default so stdout stays free for command output. */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'keda-indexer' },
      // Defence in depth: even if a caller passes a settings object, secrets never reach a line.
      redact: {
        paths: ['*.apiKey', '*.password', '*.secretAccessKey', '*.sessionToken', 'apiKey', 'password', 'authorization'],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stderr,
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Logs Node's process warnings (deprecations, experimental features, a library's own notices)
 * as JSON lines through `logger`, in place of Node's own printer, which writes several plain lines
 * to stderr that a log pipeline reading one JSON object per line would split or drop. Node installs
 * its printer first, at boot; only that listener is replaced, and only when it is there: with
 * `--no-warnings` (or NODE_NO_WARNINGS=1) Node installs none and warnings stay off. Returns a
 * function that puts Node's printer back.
 */
export function logProcessWarnings(logger: Logger): () => void {
  const [nodePrinter] = process.listeners('warning');
  if (nodePrinter === undefined) return () => {};
  const log = (warning: Error & { code?: string }) => {
    logger.warn({ warning: warning.name, ...(warning.code === undefined ? {} : { code: warning.code }) }, warning.message);
  };
  process.off('warning', nodePrinter);
  process.on('warning', log);
  return () => {
    process.off('warning', log);
    process.prependListener('warning', nodePrinter);
  };
}
