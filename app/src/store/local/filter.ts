// The port's search filters (store/filters.ts) as a predicate on a stored chunk: the local store
// applies it before ranking, so k stays k, as Elasticsearch's kNN filter does.
import type { FilterValue, SearchFilter } from '../filters.js';

/** The values at `field` (a dotted path: meta.department), a list field's values one by one. */
function valuesAt(chunk: object, field: string): unknown[] {
  let value: unknown = chunk;
  for (const part of field.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return [];
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** Equal as Elasticsearch's `terms` finds them: a keyword "5" matches 5, true matches "true". */
function sameValue(stored: unknown, wanted: FilterValue): boolean {
  return stored === wanted || ((typeof stored === 'string' || typeof stored === 'number' || typeof stored === 'boolean') && String(stored) === String(wanted));
}

/** Orders numbers as numbers, dates (ISO 8601 strings) as instants, anything else as text. */
function compare(stored: unknown, bound: string | number): number | undefined {
  if (typeof stored === 'number' && typeof bound === 'number') return stored - bound;
  if (typeof stored !== 'string' && typeof stored !== 'number') return undefined;
  const a = Date.parse(String(stored));
  const b = Date.parse(String(bound));
  if (typeof stored === 'string' && !Number.isNaN(a) && !Number.isNaN(b)) return a - b;
  if (typeof stored === 'number' || typeof bound === 'number') {
    const x = Number(stored);
    const y = Number(bound);
    return Number.isNaN(x) || Number.isNaN(y) ? undefined : x - y;
  }
  return stored < bound ? -1 : stored > bound ? 1 : 0;
}

function holds(chunk: object, filter: SearchFilter): boolean {
  const values = valuesAt(chunk, filter.field);
  if (filter.op === 'any') return values.some((value) => filter.values.some((wanted) => sameValue(value, wanted)));
  return values.some((value) => {
    const order = compare(value, filter.value);
    if (order === undefined) return false;
    if (filter.op === 'gt') return order > 0;
    if (filter.op === 'gte') return order >= 0;
    if (filter.op === 'lt') return order < 0;
    return order <= 0;
  });
}

/** True when every filter holds for the chunk (a chunk without the field matches none). */
export function matchesFilters(chunk: object, filters: readonly SearchFilter[]): boolean {
  return filters.every((filter) => holds(chunk, filter));
}
