// `keda-indexer search "<query>"`: embeds the query with the same model (and query prefix) and
// searches Elasticsearch — kNN fused with BM25 by reciprocal rank — or the local store (kNN).
import path from 'node:path';
import { errors, type Client } from '@elastic/elasticsearch';
import type { Settings } from '../config/config.js';
import { createLogger } from '../observe/logger.js';
import type { ChunkDocument } from '../store/document.js';
import { classifyElasticsearchError, createElasticsearchClient } from '../store/elasticsearch/chunks.js';
import { describeConfiguredModel, modelRecordOf, readIndexMeta, resolveIndex, type IndexMeta } from '../store/elasticsearch/index-alias.js';
import { LocalStore } from '../store/local/local-store.js';
import { printable } from '../terminal-safe.js';
import type { MetaFields } from '../metadata/values.js';
import type { Reader, SearchFilter } from '../store/filters.js';
import { isAccessControlled, metaOfSource, ReaderRequiredError, searchClauses } from '../store/elasticsearch/metadata-fields.js';
import { chunkPredicate } from '../store/local/metadata-filter.js';
import { ExitCode, UserError } from './common.js';
import { QueryModels } from './query-model.js';
import { cliLogLevel, usesElasticsearch } from './runtime.js';

export interface SearchHit {
  readonly score: number;
  readonly content: string;
  readonly file_path: string;
  /** First page of the chunk (Haystack's page_number). */
  readonly page_number?: number;
  /** Last page of the chunk: a citation names pages page_number–page_end. */
  readonly page_end?: number;
  /** The named part of the file the chunk starts in (a spreadsheet's sheet). */
  readonly section?: string;
  /** The chunk's text (some of it) was read by OCR, with the engine's mean confidence (0 to 1). */
  readonly ocr?: boolean;
  readonly ocr_confidence?: number;
  readonly split_id: number;
  readonly source_id: string;
  /** The file's metadata fields (user metadata, tags, sidecar). */
  readonly meta?: MetaFields;
}

export interface SearchOptions {
  readonly k: number;
  readonly json: boolean;
  /** Elasticsearch only: fuse kNN with BM25 (default) or use kNN alone. */
  readonly hybrid: boolean;
  /** `--filter`: every one must hold (metadata/search-flags.ts). */
  readonly filters?: readonly SearchFilter[];
  /** `--as` / `--all`; required where chunks carry access fields. */
  readonly reader?: Reader;
}

type HitSource = Omit<ChunkDocument, 'embedding'>;

function toHit(score: number, source: HitSource): SearchHit {
  // Elasticsearch keeps metadata as flat fields, the local store under `meta`.
  const meta = source.meta ?? metaOfSource(source);
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

/** Every field but the vector (the metadata fields are not known in advance) and the access fields. */
const SOURCE_FIELDS = { excludes: ['embedding', 'acl_principals', 'acl_public'] };

async function searchElasticsearch(client: Client, index: string, query: string, vector: Float32Array, options: SearchOptions, clauses: readonly object[]): Promise<SearchHit[]> {
  const candidates = Math.max(options.k, 10);
  const filter = clauses.length === 0 ? {} : { filter: [...clauses] };
  const knn = await client.search<HitSource>({
    index,
    // A kNN filter, not a post-filter: the k nearest among the chunks that pass.
    knn: { field: 'embedding', query_vector: Array.from(vector), k: candidates, num_candidates: Math.max(100, candidates * 10), ...filter },
    size: candidates,
    _source: SOURCE_FIELDS,
  });
  const knnHits = knn.hits.hits.flatMap((hit) => (hit._source ? [{ id: hit._id ?? '', score: hit._score ?? 0, source: hit._source }] : []));
  if (!options.hybrid) return knnHits.slice(0, options.k).map(({ score, source }) => toHit(score, source));
  const match = { match: { content: query } };
  const bm25 = await client.search<HitSource>({ index, query: clauses.length === 0 ? match : { bool: { must: [match], ...filter } }, size: candidates, _source: SOURCE_FIELDS });
  const bm25Hits = bm25.hits.hits.flatMap((hit) => (hit._source ? [{ id: hit._id ?? '', source: hit._source }] : []));
  return fuseByRank([knnHits, bm25Hits], options.k);
}

function snippet(text: string, width = 220): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return printable(flat.length > width ? `${flat.slice(0, width - 1)}…` : flat);
}

/** "page 3", or "pages 3–5" for a chunk that runs across pages; "" without pages. */
export function pageLabel(hit: Pick<SearchHit, 'page_number' | 'page_end'>): string {
  if (hit.page_number === undefined) return '';
  const last = hit.page_end ?? hit.page_number;
  return last > hit.page_number ? `pages ${hit.page_number}–${last}` : `page ${hit.page_number}`;
}

export function formatHits(hits: readonly SearchHit[], cwd = process.cwd()): string {
  if (hits.length === 0) return 'No results.\n';
  return hits
    .map((hit, i) => {
      const file = printable(hit.file_path.startsWith('s3://') ? hit.file_path : path.relative(cwd, hit.file_path) || hit.file_path);
      const label = pageLabel(hit);
      const page = label === '' ? '' : `, ${label}`;
      const section = hit.section === undefined ? '' : `, section "${printable(hit.section)}"`;
      return `${i + 1}. ${file}${page}${section}  (score ${hit.score.toFixed(3)})\n   ${snippet(hit.content)}\n`;
    })
    .join('\n');
}

export interface IndexSearchResult {
  readonly hits: SearchHit[];
  /** The physical index searched (the alias resolved once, so one query sees one index). */
  readonly index: string;
  /** Its recorded model; undefined for an index made without one. */
  readonly meta?: IndexMeta;
}

/**
 * Searches ELASTICSEARCH_INDEX: resolves the alias, reads the model recorded on the index it points
 * at, embeds the query with that model and searches that very index (not the alias, which may
 * move in between). When that index is deleted between the two steps (an old version removed
 * right after a flip), the alias is resolved again: it has moved on, so a query never fails for it.
 */
export async function searchIndex(client: Client, settings: Settings, models: QueryModels, query: string, options: SearchOptions): Promise<IndexSearchResult> {
  const name = settings.elasticsearch.index;
  for (let attempt = 1; ; attempt++) {
    const resolved = await resolveIndex(client, name);
    if (resolved.kind === 'missing') {
      throw new UserError(`index ${name} does not exist. Fix: check ELASTICSEARCH_INDEX, or create it with \`keda-indexer bootstrap\` and index some files.`);
    }
    let meta: IndexMeta | undefined;
    try {
      meta = await readIndexMeta(client, resolved.index);
    } catch (error) {
      if (resolved.kind === 'alias' && attempt < MAX_RESOLVE_ATTEMPTS && isIndexNotFound(error)) continue;
      throw error;
    }
    const clauses = await filterClausesFor(client, settings, resolved.index, options);
    const embedder = await models.forIndex(resolved.index, meta?.model);
    const [vector] = await embedder.embed([query], 'query');
    if (vector === undefined) throw new Error('the model returned no vector for the query');
    try {
      const hits = await searchElasticsearch(client, resolved.index, query, vector, options, clauses);
      return { hits, index: resolved.index, ...(meta === undefined ? {} : { meta }) };
    } catch (error) {
      if (resolved.kind === 'alias' && attempt < MAX_RESOLVE_ATTEMPTS && isIndexNotFound(error)) continue;
      throw classifyElasticsearchError(error, `search ${resolved.index}`);
    }
  }
}

/**
 * The search's filter clauses; refused (before the model is loaded) on an access-controlled index
 * without --as or --all. Access control is on where the index's mapping has the access fields or
 * these settings name ACL_METADATA_KEY: either alone is enough (fail-closed).
 */
async function filterClausesFor(client: Client, settings: Settings, index: string, options: SearchOptions): Promise<object[]> {
  let controlled = settings.metadata.aclKey !== '';
  try {
    controlled ||= await isAccessControlled(client, index);
    return searchClauses(index, options.filters ?? [], options.reader, controlled);
  } catch (error) {
    if (error instanceof ReaderRequiredError) throw new UserError(error.message, ExitCode.usage);
    throw classifyElasticsearchError(error, `read the mapping of ${index}`);
  }
}

/** An alias moves at most a few times a day; three resolutions outlast any real sequence of flips. */
const MAX_RESOLVE_ATTEMPTS = 3;

/** Elasticsearch's answer for a deleted index, thrown as is or as the cause of a classified error. */
function isIndexNotFound(error: unknown): boolean {
  const response = error instanceof errors.ResponseError ? error : error instanceof Error ? error.cause : undefined;
  return response instanceof errors.ResponseError && response.statusCode === 404 && JSON.stringify(response.body ?? '').includes('index_not_found_exception');
}

export async function runSearch(settings: Settings, query: string, options: SearchOptions, out: NodeJS.WritableStream): Promise<number> {
  if (query.trim() === '') throw new UserError('the query is empty', ExitCode.usage);
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > 1000) throw new UserError(`--k must be an integer from 1 to 1000, got ${options.k}`, ExitCode.usage);
  const logger = createLogger({ level: cliLogLevel(settings) });
  let hits: SearchHit[];
  if (usesElasticsearch(settings)) {
    const client = createElasticsearchClient(settings.elasticsearch);
    const models = new QueryModels(settings, logger);
    try {
      ({ hits } = await searchIndex(client, settings, models, query, options));
    } finally {
      await models.dispose();
      await client.close();
    }
  } else {
    const folder = path.resolve(settings.localStore.path);
    const store = await LocalStore.openExisting(folder);
    // The query is embedded with the store's model, found here as for an Elasticsearch index (the
    // same model under its other name included). A store saved before it recorded its model: the
    // model it names, described as these settings would describe it.
    const recorded = store.record ?? modelRecordOf(describeConfiguredModel({ ...settings.embedding, model: store.model }), store.dims);
    if (options.reader === undefined && (settings.metadata.aclKey !== '' || store.accessControlled)) {
      throw new UserError(`the local store in ${folder} is access-controlled: say whose search this is with --as <principal,...>, or --all`, ExitCode.usage);
    }
    const accept = chunkPredicate(options.filters ?? [], options.reader);
    const models = new QueryModels(settings, logger);
    try {
      const embedder = await models.forIndex(folder, recorded);
      const [vector] = await embedder.embed([query], 'query');
      if (vector === undefined) throw new Error('the model returned no vector for the query');
      hits = store.search(vector, options.k, accept).map((hit) => toHit(hit.score, hit.chunk));
    } finally {
      await models.dispose();
    }
  }
  out.write(options.json ? `${JSON.stringify(hits, null, 2)}\n` : formatHits(hits));
  return ExitCode.ok;
}
