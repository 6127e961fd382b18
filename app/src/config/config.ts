// Loads settings from defaults, an optional config file (JSON or YAML) and the environment, in
// that order of precedence (environment wins), and validates them. Every error has one form: the
// variable (or the file's key, the file and the variable), what is expected, and the value given;
// the command exits 2 on it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import convict from 'convict';
import { redactUrl } from '../terminal-safe.js';
import { formatNamed } from './formats.js';
import { unknownAccessVariables } from '../metadata/setting-names.js';
import { schema, type Settings } from './schema.js';

export type { Settings } from './schema.js';

// The YAML parser loads only when a YAML file is read (synchronously, hence require): the chart
// configures the worker through the environment, and importing yaml is a measurable part of a
// cold start (bench, figure 4).
const require = createRequire(import.meta.url);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface LoadOptions {
  /** Path of a JSON or YAML file. */
  readonly file?: string;
  /** Environment to read; the process environment by default. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Where a setting's value came from, for the message: the variable, or the key and its file. */
type Source = { readonly kind: 'env' } | { readonly kind: 'file'; readonly file: string } | { readonly kind: 'default' };

/** A value as the message quotes it; a sensitive one is never echoed, a URL's credentials neither. */
function shown(value: unknown, setting?: SettingDoc): string {
  if (setting?.sensitive === true) return '(a value not shown: it is secret)';
  return JSON.stringify(typeof value === 'string' && setting?.format === 'http-url' ? redactUrl(value) : value);
}

/** The one form of a configuration error: where the value came from, what is expected, and the value. */
function problem(setting: SettingDoc, source: Source, expectation: string, value: unknown): string {
  const where =
    source.kind === 'file' ? `${setting.name} in ${source.file} (or ${setting.env})` : `${setting.env} (${setting.name})`;
  return `${where}: must be ${expectation}, got ${shown(value, setting)}`;
}

/**
 * The dotted keys of a parsed config file ("split.by") with their values. A known setting is a leaf
 * whatever it holds (a mapping under split.by is a bad value of split.by, not unknown keys).
 */
function entriesOf(node: unknown, known: ReadonlySet<string>, prefix = ''): [string, unknown][] {
  const key = prefix.slice(0, -1);
  if (known.has(key) || node === null || typeof node !== 'object' || Array.isArray(node)) return key === '' ? [] : [[key, node]];
  return Object.entries(node).flatMap(([child, value]) => entriesOf(value, known, `${prefix}${child}.`));
}

function readFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--config ${file}: cannot be read (${(error as Error).message})`, { cause: error });
  }
  try {
    const parsed: unknown = /\.ya?ml$/i.test(file) ? (require('yaml') as typeof import('yaml')).parse(text) : JSON.parse(text);
    return parsed ?? {};
  } catch (error) {
    throw new ConfigError(`--config ${file}: must be ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(error as Error).message})`, { cause: error });
  }
}

export function loadConfig(options: LoadOptions = {}): Settings {
  const env = options.env ?? process.env;
  const config = convict(schema, { env, args: [] });
  const settings = describeSettings();
  const problems: string[] = [];

  // A typo in an access setting would open files: refused (metadata/setting-names.ts).
  problems.push(...unknownAccessVariables(env, settings.map((setting) => setting.env)));
  const fileKeys = new Set<string>();
  if (options.file !== undefined) {
    const content = readFile(options.file);
    if (typeof content !== 'object' || Array.isArray(content)) {
      throw new ConfigError(`--config ${options.file}: must hold a mapping of settings (split: {by: sentence}), got ${shown(content)}`);
    }
    const known = new Set(settings.map((setting) => setting.name));
    for (const [key, value] of entriesOf(content, known)) {
      if (known.has(key)) {
        fileKeys.add(key);
        config.set(key as never, value as never);
        continue;
      }
      const section = key.includes('.') ? key.slice(0, key.lastIndexOf('.') + 1) : '';
      const near = settings.filter((setting) => setting.name.startsWith(section)).map((setting) => setting.name);
      problems.push(`${key} in ${options.file}: must be a setting${near.length > 0 ? ` (${near.join(', ')})` : ''}, got an unknown key`);
    }
    // The environment wins over the file: convict read it first, so it is applied again.
    for (const setting of settings) {
      const value = env[setting.env];
      if (value !== undefined) config.set(setting.name as never, value as never);
    }
  }

  const sourceOf = (setting: SettingDoc): Source => {
    if (env[setting.env] !== undefined) return { kind: 'env' };
    if (options.file !== undefined && fileKeys.has(setting.name)) return { kind: 'file', file: options.file };
    return { kind: 'default' };
  };
  for (const setting of settings) {
    const format = formatNamed(setting.format);
    const value: unknown = config.get(setting.name as never);
    if (format.parse(value) === undefined) problems.push(problem(setting, sourceOf(setting), format.expect, value));
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);

  const values = config.getProperties();
  if (values.aws.endpoint !== '') values.aws.s3ForcePathStyle = true;
  // Rules across settings, in the same form.
  if (values.split.overlap >= values.split.length) {
    const overlap = settings.find((setting) => setting.env === 'SPLIT_OVERLAP');
    if (overlap !== undefined) {
      problems.push(problem(overlap, sourceOf(overlap), `less than SPLIT_LENGTH (split.length, ${values.split.length})`, values.split.overlap));
    }
  }
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return values;
}

/** One row per setting: dotted name, environment variable, default and meaning. */
export interface SettingDoc {
  readonly name: string;
  readonly env: string;
  readonly default: string;
  readonly doc: string;
  /** The name of its value format (formats.ts). */
  readonly format: string;
  /** Secret: never echoed in a message. */
  readonly sensitive: boolean;
}

export function describeSettings(): SettingDoc[] {
  const rows: SettingDoc[] = [];
  const walk = (node: Record<string, unknown>, prefix: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const entry = value as { doc?: string; env?: string; default?: unknown; format?: unknown; sensitive?: boolean };
      if (entry.doc !== undefined && entry.env !== undefined) {
        rows.push({
          name: prefix + key,
          env: entry.env,
          default: JSON.stringify(entry.default),
          doc: entry.doc,
          format: String(entry.format),
          sensitive: entry.sensitive === true,
        });
      } else {
        walk(value as Record<string, unknown>, `${prefix}${key}.`);
      }
    }
  };
  walk(schema, '');
  return rows;
}
