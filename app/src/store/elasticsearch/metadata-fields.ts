// A file's metadata in the chunk index. Stored as flat top-level fields next to the chunk's own:
// that is where Haystack 2's ElasticsearchDocumentStore puts Document.meta, and its filters strip
// a `meta.` prefix from field names, so `filters={"field": "meta.department", ...}` queries the
// field `department` (a nested `meta` object would even stop it reading documents: from_dict
// refuses `meta` next to flattened keys). Metadata fields are mapped as they first appear, by value
// type (dynamic templates), unless METADATA_FIELDS fixed their type.
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import type { FilterValue, Reader, SearchFilter } from '../filters.js';
import { RESERVED_NAMES, type DeclaredFields, type DeclaredType, type MetaFields, type MetaValue } from '../../metadata/values.js';
import type { ChunkDocument } from '../document.js';

export interface MetadataMappingSettings {
  /** METADATA_FIELDS. */
  readonly fields: DeclaredFields;
  /** ACL_METADATA_KEY is set: the access fields are mapped, which marks the index as access-controlled. */
  readonly acl: boolean;
}

/** Dates as ISO 8601 dates or date-times; "2024" stays a string (strict_date_optional_time would take it). */
const DATE_FORMATS = 'strict_date||strict_date_time||strict_date_time_no_millis||strict_date_hour_minute_second';

const TYPE_MAPPING: Readonly<Record<DeclaredType, estypes.MappingProperty>> = {
  string: { type: 'keyword', ignore_above: 1024 },
  list: { type: 'keyword', ignore_above: 1024 },
  number: { type: 'double' },
  boolean: { type: 'boolean' },
  date: { type: 'date', format: DATE_FORMATS },
};

export const ACL_PROPERTIES = {
  acl_principals: { type: 'keyword' as const },
  acl_public: { type: 'boolean' as const },
};

/**
 * The chunk mapping's metadata part: new top-level fields are mapped by their JSON type (strings
 * as keywords, ISO dates as dates, integers as long, decimals as double, booleans); declared
 * fields and the access fields are mapped up front.
 */
export function metadataMapping(settings: MetadataMappingSettings): {
  dynamic: true;
  date_detection: boolean;
  dynamic_date_formats: string[];
  dynamic_templates: Record<string, estypes.MappingDynamicTemplate>[];
  properties: Record<string, estypes.MappingProperty>;
} {
  return {
    dynamic: true as const,
    date_detection: true,
    dynamic_date_formats: [DATE_FORMATS],
    dynamic_templates: [
      { meta_dates: { match_mapping_type: 'date', mapping: TYPE_MAPPING.date } },
      { meta_strings: { match_mapping_type: 'string', mapping: TYPE_MAPPING.string } },
      { meta_integers: { match_mapping_type: 'long', mapping: { type: 'long' } } },
      { meta_decimals: { match_mapping_type: 'double', mapping: { type: 'double' } } },
      { meta_booleans: { match_mapping_type: 'boolean', mapping: { type: 'boolean' } } },
    ],
    properties: {
      ...Object.fromEntries(Object.entries(settings.fields).map(([name, type]) => [name, TYPE_MAPPING[type]])),
      ...(settings.acl ? ACL_PROPERTIES : {}),
    },
  };
}

/** The chunk as Elasticsearch stores it: metadata flattened (it cannot shadow the chunk's fields). */
export function chunkSourceOf(doc: ChunkDocument): Record<string, unknown> {
  const { meta, embedding, ...chunk } = doc;
  // A Float32Array would serialise as an object: numbers only here.
  return { ...(meta ?? {}), ...chunk, embedding: Array.from(embedding) };
}

/** The metadata fields of a stored chunk: every top-level field that is not the chunk's own. */
export function metaOfSource(source: Readonly<Record<string, unknown>>): MetaFields {
  return Object.fromEntries(Object.entries(source).filter(([name]) => !RESERVED_NAMES.has(name))) as Record<string, MetaValue>;
}

/** A filter's field as the index names it: `meta.department` is the top-level `department`. */
export function indexFieldOf(field: string): string {
  return field.startsWith('meta.') ? field.slice('meta.'.length) : field;
}

/** A search on an access-controlled index that says for whom it reads (`--as` or `--all`). */
export class ReaderRequiredError extends Error {
  override readonly name = 'ReaderRequiredError';
  constructor(index: string) {
    super(`index ${index} is access-controlled (its chunks carry acl_principals): say whose search this is with --as <principal,...>, or --all for an operator`);
  }
}

type Clause = Record<string, unknown>;

function filterClause(filter: SearchFilter): Clause {
  const field = indexFieldOf(filter.field);
  if (filter.op === 'any') {
    const values: readonly FilterValue[] = filter.values;
    return values.length === 1 ? { term: { [field]: values[0] } } : { terms: { [field]: values } };
  }
  return { range: { [field]: { [filter.op]: filter.value } } };
}

/** Who may read: any of the principals, or anyone for a public file. Absent fields match nothing. */
export function readerClause(reader: Reader): Clause | undefined {
  if (reader === 'everyone') return undefined;
  const should: Clause[] = [{ term: { acl_public: true } }];
  if (reader.principals.length > 0) should.push({ terms: { acl_principals: reader.principals } });
  return { bool: { should, minimum_should_match: 1 } };
}

/**
 * The filter clauses of a search, for the kNN `filter` and the BM25 query's bool `filter` alike
 * (applied before ranking, so k stays k). On an access-controlled index a search without a reader
 * is refused.
 */
export function searchClauses(index: string, filters: readonly SearchFilter[], reader: Reader | undefined, accessControlled: boolean): Clause[] {
  if (accessControlled && reader === undefined) throw new ReaderRequiredError(index);
  const clauses = filters.map(filterClause);
  const access = reader === undefined ? undefined : readerClause(reader);
  return access === undefined ? clauses : [...clauses, access];
}

/** Whether the index's chunks carry access fields (its mapping has them: ACL_METADATA_KEY was set). */
export async function isAccessControlled(client: Client, index: string): Promise<boolean> {
  try {
    const mapping = await client.indices.getMapping({ index });
    return Object.values(mapping).some((entry) => entry.mappings.properties?.acl_public !== undefined);
  } catch (error) {
    if (error instanceof errors.ResponseError && error.statusCode === 404) return false;
    throw error;
  }
}

/** The mapping's metadata part as the settings ask for it. */
export function metadataMappingOf(settings: { readonly metadata: { readonly fields: DeclaredFields; readonly aclKey: string } }): MetadataMappingSettings {
  return { fields: settings.metadata.fields, acl: settings.metadata.aclKey !== '' };
}
