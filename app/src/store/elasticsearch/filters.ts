// The port's search filters (store/filters.ts) in Elasticsearch's query DSL: one filter clause per
// condition, used both as the kNN search's `filter` (applied while the nearest neighbours are
// found, so k stays k) and as the bool filter of the BM25 query.
import type { estypes } from '@elastic/elasticsearch';
import type { SearchFilter } from '../filters.js';

export function filterClauses(filters: readonly SearchFilter[]): estypes.QueryDslQueryContainer[] {
  return filters.map((filter) => {
    if (filter.op === 'any') return { terms: { [filter.field]: [...filter.values] } };
    return { range: { [filter.field]: { [filter.op]: filter.value } } };
  });
}
