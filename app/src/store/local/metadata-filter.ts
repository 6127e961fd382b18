// The local store's side of search filters and readers: the same rules as the Elasticsearch
// clauses (store/elasticsearch/metadata-fields.ts), as a predicate over stored chunks, applied
// before ranking so k stays k.
import type { ChunkDocument } from '../document.js';
import type { FilterValue, Reader, SearchFilter } from '../filters.js';

type StoredChunk = Omit<ChunkDocument, 'embedding'>;

function valueOf(chunk: StoredChunk, field: string): unknown {
  if (field.startsWith('meta.')) return chunk.meta?.[field.slice('meta.'.length)];
  return (chunk as unknown as Record<string, unknown>)[field];
}

/** As Elasticsearch compares a term with a keyword, number or boolean field: by its text. */
const same = (stored: unknown, wanted: FilterValue) => (typeof stored === 'string' || typeof stored === 'number' || typeof stored === 'boolean') && String(stored) === String(wanted);

function inRange(stored: unknown, op: 'gt' | 'gte' | 'lt' | 'lte', bound: string | number): boolean {
  let a: number | string;
  let b: number | string;
  if (typeof stored === 'number' && typeof bound === 'number') [a, b] = [stored, bound];
  else if (typeof stored === 'string' && !Number.isNaN(Date.parse(stored)) && !Number.isNaN(Date.parse(String(bound)))) [a, b] = [Date.parse(stored), Date.parse(String(bound))];
  else if (typeof stored === 'string' || typeof stored === 'number') [a, b] = [String(stored), String(bound)];
  else return false;
  return op === 'gt' ? a > b : op === 'gte' ? a >= b : op === 'lt' ? a < b : a <= b;
}

function matchesFilter(chunk: StoredChunk, filter: SearchFilter): boolean {
  const stored = valueOf(chunk, filter.field);
  const values = Array.isArray(stored) ? (stored as unknown[]) : [stored];
  if (filter.op === 'any') return values.some((value) => filter.values.some((wanted) => same(value, wanted)));
  return values.some((value) => inRange(value, filter.op, filter.value));
}

/** Fail-closed: a chunk without access fields is readable by no principal, only by everyone. */
function readable(chunk: StoredChunk, reader: Reader): boolean {
  if (reader === 'everyone') return true;
  return chunk.acl_public === true || (chunk.acl_principals ?? []).some((principal) => reader.principals.includes(principal));
}

/** The predicate a local search applies to every chunk; undefined when nothing narrows it. */
export function chunkPredicate(filters: readonly SearchFilter[], reader: Reader | undefined): ((chunk: StoredChunk) => boolean) | undefined {
  if (filters.length === 0 && reader === undefined) return undefined;
  return (chunk) => filters.every((filter) => matchesFilter(chunk, filter)) && (reader === undefined || readable(chunk, reader));
}

/** Whether any chunk carries access fields: then a search must say for whom it reads. */
export function hasAccessFields(chunks: Iterable<StoredChunk>): boolean {
  for (const chunk of chunks) if (chunk.acl_public !== undefined) return true;
  return false;
}
