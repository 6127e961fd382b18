// What a search may be narrowed by, in the store's own terms: every store (Elasticsearch, the
// local store) applies the same filters to every way it ranks (kNN and BM25 alike), before
// ranking, so k stays k.

/** A chunk field's value as a filter names it. Dates are ISO 8601 strings. */
export type FilterValue = string | number | boolean;

/**
 * One condition on a chunk field. `field` is the chunk's field path: `content_type`, `section`,
 * or a metadata field such as `meta.department`. All of a search's filters must hold.
 */
export type SearchFilter =
  /** The field (or, for a list field, one of its values) equals one of `values`. */
  | { readonly field: string; readonly op: 'any'; readonly values: readonly FilterValue[] }
  /** A range bound on a number or date field. */
  | { readonly field: string; readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: string | number };

/**
 * Who reads: the principals a search acts for (`search --as`), or `everyone` for an operator who
 * asked for every chunk (`search --all`). A store with access control on refuses a search that
 * says neither.
 */
export type Reader = { readonly principals: readonly string[] } | 'everyone';
