// Search in Elasticsearch: kNN fused with BM25 by reciprocal rank (or kNN alone), on the physical
// index ELASTICSEARCH_INDEX points at, with the query embedded by the model recorded on that index.
import { errors, type Client, type estypes } from '@elastic/elasticsearch';
import type { ChunkDocument } from '../document.js';
import type { Reader, SearchFilter } from '../filters.js';
import type { EmbedQuery, SearchHit, StoreQuery, StoreSearchResult } from '../port.js';
import type { ModelRecord } from '../model-record.js';
import { classifyElasticsearchError } from './errors.js';
import { readIndexMeta, resolveIndex, type IndexMeta } from './index-alias.js';
import { StoreRefusal } from '../port.js';
import { isAccessControlled, metaOfSource, ReaderRequiredError, searchClauses } from './metadata-fields.js';

type HitSource = Omit<ChunkDocument, 'embedding'>;

export function toHit(score: number, source: HitSource): SearchHit {
  // The file's metadata is stored as flat top-level fields (metadata-fields.ts).
  const meta = metaOfSource(source);
  return {
    score,
    content: source.content,
    file_path: source.file_path,
    ...(source.page_number === undefined ? {} : { page_number: source.page_number }),
    ...(source.page_end === undefined ? {} : { page_end: source.page_end }),
    ...(source.section === undefined ? {} : { section: source.section }),
    ...(source.ocr === undefined ? {} : { ocr: source.ocr }),
    ...(source.ocr_confidence === undefined ? {} : { ocr_confidence: source.ocr_confidence }),
    split_id: source.split_id,
    source_id: source.source_id,
    ...(Object.keys(meta).length === 0 ? {} : { meta }),
  };
}

/**
 * Reciprocal rank fusion, done here rather than with Elasticsearch's `rrf` retriever, which needs
 * a licence tier and a module some clusters lack: both lists are fetched and fused by rank.
 */
export function fuseByRank(lists: readonly (readonly { id: string; source: HitSource }[])[], k: number, rankConstant = 60): SearchHit[] {
  const fused = new Map<string, { score: number; source: HitSource }>();
  for (const list of lists) {
    list.forEach(({ id, source }, rank) => {
      const entry = fused.get(id) ?? { score: 0, source };
      entry.score += 1 / (rankConstant + rank + 1);
      fused.set(id, entry);
    });
  }
  return [...fused.values()]
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map(({ score, source }) => toHit(score, source));
}

/** Every field but the vector and the access fields: the metadata fields are not known in advance. */
const SOURCE_FIELDS = { excludes: ['embedding', 'acl_principals', 'acl_public'] };

/** How many of each list are fetched: enough for the fusion to find what both rank well. */
const candidatesOf = (k: number) => Math.max(k, 10);

/** The filters and the reader as filter clauses (metadata-fields.ts); the reader was checked for already. */
const clausesOf = (index: string, query: Pick<StoreQuery, 'filters' | 'reader'>) => searchClauses(index, query.filters, query.reader, false) as estypes.QueryDslQueryContainer[];

/** The kNN request; the filters (and the reader) go into `knn.filter`, so the k nearest are k matching chunks. */
export function knnRequest(index: string, vector: Float32Array, query: Pick<StoreQuery, 'k' | 'filters' | 'reader'>): estypes.SearchRequest {
  const candidates = candidatesOf(query.k);
  const filter = clausesOf(index, query);
  return {
    index,
    knn: { field: 'embedding', query_vector: Array.from(vector), k: candidates, num_candidates: Math.max(100, candidates * 10), ...(filter.length > 0 ? { filter } : {}) },
    size: candidates,
    _source: SOURCE_FIELDS,
  };
}

/** The BM25 request; the filters (and the reader) are the bool query's filter (no post-filter: size stays size). */
export function bm25Request(index: string, query: Pick<StoreQuery, 'k' | 'filters' | 'reader' | 'text'>): estypes.SearchRequest {
  const filter = clausesOf(index, query);
  const match = { match: { content: query.text } };
  return { index, query: filter.length > 0 ? { bool: { must: [match], filter } } : match, size: candidatesOf(query.k), _source: SOURCE_FIELDS };
}

async function searchPhysical(client: Client, index: string, vector: Float32Array, query: StoreQuery): Promise<SearchHit[]> {
  const knn = await client.search<HitSource>(knnRequest(index, vector, query));
  const knnHits = knn.hits.hits.flatMap((hit) => (hit._source ? [{ id: hit._id ?? '', score: hit._score ?? 0, source: hit._source }] : []));
  if (!query.hybrid) return knnHits.slice(0, query.k).map(({ score, source }) => toHit(score, source));
  const bm25 = await client.search<HitSource>(bm25Request(index, query));
  const bm25Hits = bm25.hits.hits.flatMap((hit) => (hit._source ? [{ id: hit._id ?? '', source: hit._source }] : []));
  return fuseByRank([knnHits, bm25Hits], query.k);
}

export interface IndexSearchResult extends StoreSearchResult {
  /** The physical index searched (the alias resolved once, so one query sees one index). */
  readonly index: string;
  /** Its recorded model; undefined for an index made without one. */
  readonly meta?: IndexMeta;
}

/**
 * Searches `name` (ELASTICSEARCH_INDEX): resolves the alias, reads the model recorded on the index
 * it points at, has the caller embed the query with that model and searches that very index (not
 * the alias, which may move in between). When that index is deleted between the two steps (an old
 * version removed right after a flip), the alias is resolved again: it has moved on, so a query
 * never fails for it.
 */
export async function searchAlias(client: Client, name: string, query: StoreQuery, embedQuery: EmbedQuery, accessRequired = false): Promise<IndexSearchResult> {
  for (let attempt = 1; ; attempt++) {
    const resolved = await resolveIndex(client, name);
    if (resolved.kind === 'missing') {
      throw new StoreRefusal(`index ${name} does not exist. Fix: check ELASTICSEARCH_INDEX, or create it with \`keda-indexer bootstrap\` and index some files.`);
    }
    let meta: IndexMeta | undefined;
    try {
      meta = await readIndexMeta(client, resolved.index);
    } catch (error) {
      if (resolved.kind === 'alias' && attempt < MAX_RESOLVE_ATTEMPTS && isIndexNotFound(error)) continue;
      throw error;
    }
    await refuseWithoutReader(client, resolved.index, query, accessRequired);
    const target = { name: resolved.index, model: meta?.model };
    const vector = await embedQuery(target);
    try {
      const hits = await searchPhysical(client, resolved.index, vector, query);
      return { hits, target, index: resolved.index, ...(meta === undefined ? {} : { meta }) };
    } catch (error) {
      if (resolved.kind === 'alias' && attempt < MAX_RESOLVE_ATTEMPTS && isIndexNotFound(error)) continue;
      throw classifyElasticsearchError(error, `search ${resolved.index}`);
    }
  }
}

/**
 * Fail-closed, before the model is loaded: a search without a reader is refused where the index's
 * mapping has the access fields or the settings name ACL_METADATA_KEY (`accessRequired`); either
 * alone is enough.
 */
async function refuseWithoutReader(client: Client, index: string, query: StoreQuery, accessRequired: boolean): Promise<void> {
  if (query.reader !== undefined) return;
  let controlled = accessRequired;
  try {
    controlled ||= await isAccessControlled(client, index);
  } catch (error) {
    throw classifyElasticsearchError(error, `read the mapping of ${index}`);
  }
  try {
    searchClauses(index, query.filters, query.reader, controlled);
  } catch (error) {
    if (error instanceof ReaderRequiredError) throw new StoreRefusal(error.message, true);
    throw error;
  }
}

/** An alias moves at most a few times a day; three resolutions outlast any real sequence of flips. */
const MAX_RESOLVE_ATTEMPTS = 3;

/** Elasticsearch's answer for a deleted index, thrown as is or as the cause of a classified error. */
function isIndexNotFound(error: unknown): boolean {
  const response = error instanceof errors.ResponseError ? error : error instanceof Error ? error.cause : undefined;
  return response instanceof errors.ResponseError && response.statusCode === 404 && JSON.stringify(response.body ?? '').includes('index_not_found_exception');
}

/** What embeds queries for an index: commands/query-model.ts's QueryModels. */
export interface QueryEmbedders {
  forIndex(index: string, recorded: ModelRecord | undefined): Promise<{ embed(texts: string[], kind: 'query'): Promise<Float32Array[]> }>;
}

/** searchAlias with the query embedded by `models`: for tests and tools that hold a client. */
export function searchIndex(
  client: Client,
  settings: { readonly elasticsearch: { readonly index: string } },
  models: QueryEmbedders,
  text: string,
  options: { readonly k: number; readonly hybrid: boolean; readonly filters?: readonly SearchFilter[]; readonly reader?: Reader },
): Promise<IndexSearchResult> {
  const query = { text, k: options.k, hybrid: options.hybrid, filters: options.filters ?? [], ...(options.reader === undefined ? {} : { reader: options.reader }) };
  return searchAlias(client, settings.elasticsearch.index, query, async (target) => {
    const [vector] = await (await models.forIndex(target.name, target.model)).embed([text], 'query');
    if (vector === undefined) throw new Error('the model returned no vector for the query');
    return vector;
  });
}
