// The kinds of value a setting (or a CLI flag) takes, each defined once: how a string from the
// environment, a value from a config file or a flag's argument is parsed, and one phrase that says
// what is expected. Every setting in schema.ts names one of these; loadConfig builds every
// message from the phrase ("SPLIT_BY (split.by): must be one of word, sentence, passage, got
// "foo""), and the CLI's argParsers reuse the same parsers and phrases for flags.
import convict from 'convict';
import { parseAllowedLocation, splitAllowedList } from '../s3-names.js';
import { parseSize } from './size.js';
import { DECLARED_TYPES, normaliseKey, RESERVED_NAMES, type DeclaredType } from '../metadata/values.js';

export interface ValueFormat<T> {
  /** The name the schema refers to (convict looks formats up by name). */
  readonly name: string;
  /** What is expected, written to follow "must be". */
  readonly expect: string;
  /** The value, or undefined when `raw` is not one. Takes strings (environment, flags) and typed file values. */
  parse(raw: unknown): T | undefined;
}

const formats = new Map<string, ValueFormat<unknown>>();

/**
 * Registers `format` with convict, once per name. Coercion keeps a value it cannot parse as it was
 * given, so the message quotes what the user wrote (convict would turn "abc" into NaN, and "yes"
 * into true).
 */
function define<T>(format: ValueFormat<T>): ValueFormat<T> {
  const known = formats.get(format.name);
  if (known !== undefined) return known as ValueFormat<T>;
  formats.set(format.name, format);
  convict.addFormat({
    name: format.name,
    validate(value: unknown) {
      if (format.parse(value) === undefined) throw new Error(`must be ${format.expect}`);
    },
    coerce: (value: unknown) => format.parse(value) ?? value,
  });
  return format;
}

/** The format registered under `name`; schema.ts names only formats made here. */
export function formatNamed(name: string): ValueFormat<unknown> {
  const format = formats.get(name);
  if (format === undefined) throw new Error(`no value format named ${name}`);
  return format;
}

// Written out or with an exponent: Helm's toString renders a values file's 104857600 as
// "1.048576e+08". Whether it is a whole number is checked on the number.
const NUMBER = /^\s*-?\d+(\.\d+)?(e\+?\d+)?\s*$/i;

export function integer(min: number, max?: number): ValueFormat<number> {
  const expect = max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
  return define({
    name: `integer:${min}:${max ?? ''}`,
    expect,
    parse(raw) {
      const value = typeof raw === 'string' && NUMBER.test(raw) ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || (max !== undefined && value > max)) return undefined;
      return value;
    },
  });
}

/** A number above `above` (fractions allowed): rates and ratios. */
export function numberAbove(above: number): ValueFormat<number> {
  return define({
    name: `number-above:${above}`,
    expect: `a number above ${above}`,
    parse(raw) {
      const value = typeof raw === 'string' && NUMBER.test(raw) ? Number(raw) : raw;
      return typeof value === 'number' && Number.isFinite(value) && value > above ? value : undefined;
    },
  });
}

export function numberAtLeast(min: number): ValueFormat<number> {
  return define({
    name: `number-at-least:${min}`,
    expect: `a number ≥ ${min}`,
    parse(raw) {
      const value = typeof raw === 'string' && NUMBER.test(raw) ? Number(raw) : raw;
      return typeof value === 'number' && Number.isFinite(value) && value >= min ? value : undefined;
    },
  });
}

export function oneOf<const V extends string>(...values: V[]): ValueFormat<V> {
  return define({
    name: `one-of:${values.join('|')}`,
    expect: `one of ${values.map((value) => (value === '' ? '(empty)' : value)).join(', ')}`,
    parse: (raw) => (typeof raw === 'string' && (values as string[]).includes(raw) ? (raw as V) : undefined),
  });
}

/** Codes joined by + (Tesseract's way: eng+deu), each one of `codes`, none twice. */
export function languageList(...codes: string[]): ValueFormat<string> {
  return define({
    name: `language-list:${codes.join('|')}`,
    expect: `language codes joined by + (each one of ${codes.join(', ')})`,
    parse(raw) {
      if (typeof raw !== 'string') return undefined;
      const list = raw.split('+').map((code) => code.trim());
      const valid = list.length > 0 && list.every((code) => codes.includes(code)) && new Set(list).size === list.length;
      return valid ? list.join('+') : undefined;
    },
  });
}

/**
 * true or false, nothing else: "yes", "1" or "on" are refused rather than guessed (convict's own
 * Boolean reads every string but "false" as true, so S3_FORCE_PATH_STYLE=no meant on).
 */
export const boolean = define<boolean>({
  name: 'boolean-strict',
  expect: 'true or false',
  parse(raw) {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    return undefined;
  },
});

/** Bytes, or a size with a unit (backfill's --max-size parser): 104857600, 100MiB, 512KiB, 1GB. */
export const byteSize = define<number>({
  name: 'byte-size',
  expect: 'a size of at least 1 byte: bytes or with a unit (512KiB, 10MB, 1GB)',
  parse(raw) {
    const value = typeof raw === 'string' ? parseSize(raw) : raw;
    return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? value : undefined;
  },
});

/** Any text; only a config file can give something else (a number, a list). */
export const text = define<string>({
  name: 'text',
  expect: 'a string (quote it in a config file)',
  parse: (raw) => (typeof raw === 'string' ? raw : undefined),
});

export const nonEmptyText = define<string>({
  name: 'non-empty-text',
  expect: 'a non-empty string',
  parse: (raw) => (typeof raw === 'string' && raw.trim() !== '' ? raw : undefined),
});

/** An http:// or https:// URL with a host, or empty (the setting is off). */
export const httpUrl = define<string>({
  name: 'http-url',
  expect: 'an http:// or https:// URL (e.g. http://127.0.0.1:9200), or empty',
  parse(raw) {
    if (raw === '') return raw;
    if (typeof raw !== 'string') return undefined;
    try {
      const url = new URL(raw);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' ? raw : undefined;
    } catch {
      return undefined;
    }
  },
});

/** An AWS region as the SDK signs with it: lower-case letters, digits and hyphens. */
export const awsRegion = define<string>({
  name: 'aws-region',
  expect: 'an AWS region such as eu-west-1, or empty',
  parse: (raw) => (raw === '' || (typeof raw === 'string' && /^[a-z0-9]+(-[a-z0-9]+)*$/.test(raw)) ? raw : undefined),
});

/**
 * A bucket name, not a URL or a path. Loose on purpose (letters of either case, _ and up to 255
 * characters) so buckets made under us-east-1's legacy rules still pass.
 */
export const bucketName = define<string>({
  name: 'bucket-name',
  expect: 'a bucket name (no s3:// and no /), or empty',
  parse: (raw) => (raw === '' || (typeof raw === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/.test(raw)) ? raw : undefined),
});

/**
 * S3_ALLOWED_BUCKETS: `bucket` or `bucket/prefix` entries, separated by commas or spaces (a list in
 * a config file). Empty: the list is derived (s3-names.ts, allowedLocationsOf).
 */
export const bucketList = define<string[]>({
  name: 'bucket-list',
  expect: 'bucket names, each optionally with /prefix, separated by commas (docs,archive/2024/), or empty',
  parse(raw) {
    const entries = typeof raw === 'string' ? splitAllowedList(raw) : Array.isArray(raw) && raw.every((entry) => typeof entry === 'string') ? raw : undefined;
    if (entries === undefined || !entries.every((entry) => parseAllowedLocation(entry) !== undefined)) return undefined;
    return entries;
  },
});

/** Elasticsearch's rules for index and alias names. */
export const indexName = define<string>({
  name: 'index-name',
  expect: 'an Elasticsearch index name: lower case, no spaces or \\ / * ? " < > | , # :, not starting with - _ +',
  parse: (raw) =>
    typeof raw === 'string' &&
    raw !== '' &&
    Buffer.byteLength(raw) <= 255 &&
    !/^[-_+]/.test(raw) &&
    !/[A-Z\\/*?"<>| ,#:]/.test(raw) &&
    raw !== '.' &&
    raw !== '..'
      ? raw
      : undefined,
});

/**
 * A hub id (owner/name or name) or an absolute path; a relative path would be taken for a hub id.
 * Empty passes here: the model loader refuses it with its own advice (exit 2; doctor reports it as
 * the model check).
 */
export const modelRef = define<string>({
  name: 'model-ref',
  expect: 'a Hugging Face model id (owner/name) or an absolute path to a model folder',
  parse: (raw) =>
    typeof raw === 'string' && (raw === '' || raw.startsWith('/') || /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(raw)) ? raw : undefined,
});

/**
 * SEARCH_ALLOWED_MODELS: model references (hub ids or absolute folders, as EMBEDDING_MODEL),
 * separated by commas or spaces (a list in a config file).
 */
export const modelList = define<string[]>({
  name: 'model-list',
  expect: 'Hugging Face model ids or absolute paths of model folders, separated by commas, or empty',
  parse(raw) {
    const entries = typeof raw === 'string' ? raw.split(/[\s,]+/).filter((entry) => entry !== '') : Array.isArray(raw) && raw.every((entry) => typeof entry === 'string') ? raw : undefined;
    if (entries === undefined || !entries.every((entry) => entry !== '' && modelRef.parse(entry) !== undefined)) return undefined;
    return entries;
  },
});

/**
 * METADATA_FIELDS: metadata fields whose type is fixed, `name:type` separated by commas
 * (effective_date:date,year:number); a mapping of name to type in a config file.
 */
export const metadataFieldList = define<Record<string, DeclaredType>>({
  name: 'metadata-field-list',
  expect: `name:type pairs separated by commas (effective_date:date,year:number), types ${DECLARED_TYPES.join(', ')}; names as metadata keys (a-z, 0-9, _), or empty`,
  parse(raw) {
    const pairs =
      typeof raw === 'string'
        ? raw
            .split(/[\s,]+/)
            .filter((entry) => entry !== '')
            .map((entry) => entry.split(':'))
        : raw !== null && typeof raw === 'object' && !Array.isArray(raw)
          ? Object.entries(raw as Record<string, unknown>).map(([name, type]): unknown[] => [name, type])
          : undefined;
    if (pairs === undefined) return undefined;
    const fields: Record<string, DeclaredType> = {};
    for (const pair of pairs) {
      const [name, type] = pair;
      if (pair.length !== 2 || typeof name !== 'string' || normaliseKey(name) !== name || RESERVED_NAMES.has(name)) return undefined;
      if (!(DECLARED_TYPES as readonly unknown[]).includes(type)) return undefined;
      fields[name] = type as DeclaredType;
    }
    return fields;
  },
});

/** ACL_METADATA_KEY: a metadata key (any case; normalised as keys are), or empty. */
export const metadataKey = define<string>({
  name: 'metadata-key',
  expect: 'a metadata or tag key (letters, digits, - and _), or empty',
  parse: (raw) => (typeof raw === 'string' && (raw === '' || (/^[A-Za-z0-9_-]+$/.test(raw) && normaliseKey(raw) !== undefined && !RESERVED_NAMES.has(normaliseKey(raw) ?? ''))) ? raw : undefined),
});
