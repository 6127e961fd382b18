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
