// What every command shares: settings from --config and the environment, and turning errors
// into a clear message and an exit code (documented in the README).
import { ConfigError, loadConfig, type Settings } from '../config/config.js';
import { EmbedderStartupError } from '../embed/startup-error.js';
import { StoreRefusal } from '../store/port.js';

export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;

/** An error whose message is meant for the user as is: no stack trace. */
export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
  ) {
    super(message);
  }
}

export function settingsFor(options: { config?: string }): Settings {
  return loadConfig(options.config === undefined ? {} : { file: options.config });
}

export function requireSetting(value: string, name: string, hint: string): string {
  if (value === '') throw new UserError(`${name} is not set. ${hint}`, ExitCode.usage);
  return value;
}

/** Prints an error for a person and returns the exit code. */
export function reportError(command: string, error: unknown): number {
  if (error instanceof UserError) {
    process.stderr.write(`keda-indexer ${command}: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof StoreRefusal) {
    process.stderr.write(`keda-indexer ${command}: ${error.message}\n`);
    return error.usage ? ExitCode.usage : ExitCode.failure;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`keda-indexer ${command}: ${error.message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof EmbedderStartupError) {
    // Its message already says what to fix; the library's stack adds nothing for a user.
    process.stderr.write(`keda-indexer ${command}: ${error.message}\n`);
    if (process.env.DEBUG !== undefined && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.misconfigured ? ExitCode.usage : ExitCode.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`keda-indexer ${command}: ${message}\n`);
  if (process.env.DEBUG !== undefined && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}
