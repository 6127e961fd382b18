// `search --filter`, `--as` and `--all` as the store's SearchFilter and Reader (store/filters.ts).
//   --filter department=finance         the field equals the value (for a list field: holds it)
//   --filter department=finance,legal   one of the values
//   --filter effective>=2024-01-01      a range bound (>=, >, <=, <), on a number or date field
// A name is a metadata key (normalised as keys are: `meta.<key>`), or one of the chunk's own
// fields that filter (content_type, section, file_path, page_number, ocr).
import type { FilterValue, Reader, SearchFilter } from '../store/filters.js';
import { normaliseKey, splitList } from './values.js';

/** Chunk fields a filter may name as they are; any other name is a metadata key. */
const CHUNK_FILTER_FIELDS: ReadonlySet<string> = new Set(['content_type', 'section', 'file_path', 'page_number', 'page_end', 'ocr', 'ocr_confidence', 'source_id']);

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
}

const FILTER = /^\s*([A-Za-z0-9_.-]+)\s*(>=|<=|>|<|=)\s*(.*)$/s;
const RANGE_OPS = { '>=': 'gte', '>': 'gt', '<=': 'lte', '<': 'lt' } as const;

function fieldOf(name: string): string {
  const bare = name.startsWith('meta.') ? name.slice('meta.'.length) : name;
  if (!name.startsWith('meta.') && CHUNK_FILTER_FIELDS.has(bare)) return bare;
  const key = normaliseKey(bare);
  if (key === undefined) throw new FilterSyntaxError(`--filter ${JSON.stringify(name)}: not a field name`);
  return `meta.${key}`;
}

/** One --filter argument. */
export function parseFilter(text: string): SearchFilter {
  const match = FILTER.exec(text);
  if (match === null) throw new FilterSyntaxError(`--filter ${JSON.stringify(text)}: must be name=value, name=a,b or name>=value (>, <=, <)`);
  const [, name = '', op = '=', raw = ''] = match;
  const field = fieldOf(name);
  const value = raw.trim();
  if (value === '') throw new FilterSyntaxError(`--filter ${JSON.stringify(text)}: the value is empty`);
  if (op === '=') {
    const values: FilterValue[] = splitList(value);
    return { field, op: 'any', values };
  }
  const bound: string | number = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  return { field, op: RANGE_OPS[op as keyof typeof RANGE_OPS], value: bound };
}

/** --as and --all: who the search reads for; undefined when neither is given. */
export function readerOf(options: { readonly as?: string; readonly all?: boolean }): Reader | undefined {
  if (options.as !== undefined && options.all === true) throw new FilterSyntaxError('--as and --all exclude each other: --as reads for principals, --all for an operator who sees everything');
  if (options.all === true) return 'everyone';
  if (options.as === undefined) return undefined;
  const principals = splitList(options.as);
  if (principals.length === 0) throw new FilterSyntaxError('--as: name at least one principal (group:finance,user:ana)');
  return { principals };
}
