// A file's metadata as the index keeps it: flat fields with normalised names and one of five value
// types, merged from the object's user metadata, its tags and its sidecar (later wins). Pure: the
// S3 calls are in sources.ts, sidecar parsing in sidecar.ts.
import { createHash } from 'node:crypto';

/** A metadata value: string, number, boolean, ISO 8601 date (a string) or a list of strings. */
export type MetaValue = string | number | boolean | readonly string[];
export type MetaFields = Readonly<Record<string, MetaValue>>;

/** The types METADATA_FIELDS may declare; `list` is a list of strings (comma-separated in tags). */
export const DECLARED_TYPES = ['string', 'list', 'number', 'boolean', 'date'] as const;
export type DeclaredType = (typeof DECLARED_TYPES)[number];
export type DeclaredFields = Readonly<Record<string, DeclaredType>>;

/**
 * Names a metadata key cannot take: the chunk's own fields, the access fields and Haystack's
 * Document fields. Metadata is stored flat next to them (Haystack reads every other top-level
 * field as meta), so a key of these names would overwrite them.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  'id',
  'content',
  'embedding',
  'file_path',
  'source_id',
  'split_id',
  'split_idx_start',
  'page_number',
  'page_end',
  'section',
  'ocr',
  'ocr_confidence',
  'content_type',
  'indexed_at',
  'acl_principals',
  'acl_public',
  'meta',
  'blob',
  'score',
  'sparse_embedding',
  'dataframe',
]);

const MAX_KEY_LENGTH = 64;
/** Longer values are not kept: a keyword that long is not a filter value, and it bloats every chunk. */
export const MAX_VALUE_CHARS = 1024;
export const MAX_LIST_VALUES = 100;

/** `Effective-Date` → `effective_date`: lower case, `[a-z0-9_]` only; undefined when nothing is left. */
export function normaliseKey(raw: string): string | undefined {
  const key = raw
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (key === '' || key.length > MAX_KEY_LENGTH) return undefined;
  return key;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function isIsoDate(value: string): boolean {
  return ISO_DATE.test(value) && !Number.isNaN(Date.parse(value));
}

/** Splits a principals or list value written as text: `group:finance, user:ana`. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** Why a value cannot be kept, or undefined when it can. */
export function valueProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > MAX_VALUE_CHARS ? `longer than ${MAX_VALUE_CHARS} characters` : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'not a finite number';
  if (typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) {
    if (value.length > MAX_LIST_VALUES) return `a list of more than ${MAX_LIST_VALUES} values`;
    const bad = (value as unknown[]).some((entry) => typeof entry !== 'string' || entry.length > MAX_VALUE_CHARS);
    return !bad ? undefined : 'a list with a value that is not a string (lists hold strings only)';
  }
  return value === null ? 'null' : `a ${typeof value === 'object' ? 'nested object' : typeof value}`;
}

/**
 * `value` as the declared type, or undefined when it is not one. Text from tags and user metadata
 * is converted ("2024" → 2024 for a number field); sidecar values must already fit.
 */
export function coerce(value: MetaValue, type: DeclaredType): MetaValue | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
    case 'list':
      return typeof value === 'string' ? splitList(value) : Array.isArray(value) ? value : undefined;
    case 'number': {
      if (typeof value === 'number') return value;
      if (typeof value !== 'string' || !/^\s*-?\d+(\.\d+)?([eE][+-]?\d+)?\s*$/.test(value)) return undefined;
      return Number(value);
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
    case 'date':
      return typeof value === 'string' && isIsoDate(value) ? value : undefined;
  }
}

/** A value the declared type refused: the file cannot be indexed with it (docs/operations.md). */
export class MetadataTypeError extends Error {
  override readonly name = 'MetadataTypeError';
  constructor(
    readonly field: string,
    readonly type: DeclaredType,
    readonly source: string,
  ) {
    super(`metadata field ${field} is declared ${type} (METADATA_FIELDS), but the value from ${source} is not one`);
  }
}

/** Stable fingerprint of a file's metadata and access fields, kept on its record to spot changes. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
