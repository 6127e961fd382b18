// Loads settings from defaults, an optional config file (JSON or YAML) and the environment, in
// that order of precedence (environment wins), and validates them. Errors name the setting, its
// environment variable, the bad value and the expected form.
import { createRequire } from 'node:module';
import convict from 'convict';
import { schema, type Settings } from './schema.js';

export type { Settings } from './schema.js';

// The YAML parser loads only when a YAML file is read (convict's parsers are synchronous, hence
// require): the chart configures the worker through the environment, and importing yaml is a
// measurable part of a cold start (bench, figure 4).
const require = createRequire(import.meta.url);
convict.addParser({ extension: ['yml', 'yaml'], parse: (text: string) => (require('yaml') as typeof import('yaml')).parse(text) as object });
convict.addFormats({
  'positive-int': {
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 1) throw new Error('must be an integer ≥ 1');
    },
    coerce: (value: unknown) => (typeof value === 'string' ? Number(value) : value),
  },
  'non-negative-int': {
    validate(value: unknown) {
      if (!Number.isInteger(value) || (value as number) < 0) throw new Error('must be an integer ≥ 0');
    },
    coerce: (value: unknown) => (typeof value === 'string' ? Number(value) : value),
  },
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadOptions {
  /** Path of a JSON or YAML file. */
  readonly file?: string;
  /** Environment to read; the process environment by default. */
  readonly env?: NodeJS.ProcessEnv;
}

function crossFieldProblems(settings: Settings): string[] {
  const problems: string[] = [];
  const { sqs, split } = settings;
  if (sqs.waitTimeSeconds > 20) problems.push(`sqs.waitTimeSeconds (SQS_WAIT_TIME_SECONDS): must be 0–20, got ${sqs.waitTimeSeconds}`);
  if (sqs.maxMessages > 10) problems.push(`sqs.maxMessages (SQS_MAX_MESSAGES): must be 1–10, got ${sqs.maxMessages}`);
  if (sqs.visibilityTimeoutSeconds > 43_200) {
    problems.push(`sqs.visibilityTimeoutSeconds (SQS_VISIBILITY_TIMEOUT_SECONDS): must be ≤ 43200, got ${sqs.visibilityTimeoutSeconds}`);
  }
  if (split.overlap >= split.length) {
    problems.push(`split.overlap (SPLIT_OVERLAP): must be less than split.length (${split.length}), got ${split.overlap}`);
  }
  return problems;
}

export function loadConfig(options: LoadOptions = {}): Settings {
  const config = convict(schema, { env: options.env ?? process.env, args: [] });
  try {
    if (options.file !== undefined) config.loadFile(options.file);
    config.validate({ allowed: 'strict' });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`, { cause: error });
  }
  const settings = config.getProperties();
  if (settings.aws.endpoint !== '') settings.aws.s3ForcePathStyle = true;
  const problems = crossFieldProblems(settings);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return settings;
}

/** One row per setting: dotted name, environment variable, default and meaning. */
export interface SettingDoc {
  readonly name: string;
  readonly env: string;
  readonly default: string;
  readonly doc: string;
}

export function describeSettings(): SettingDoc[] {
  const rows: SettingDoc[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const entry = value as { doc?: string; env?: string; default?: unknown };
      if (entry.doc !== undefined && entry.env !== undefined) {
        rows.push({ name: prefix + key, env: entry.env, default: JSON.stringify(entry.default), doc: entry.doc });
      } else {
        walk(value as Record<string, unknown>, `${prefix}${key}.`);
      }
    }
  };
  walk(schema, '');
  return rows;
}
