// ELASTICSEARCH_INDEX names an alias; the chunks live in a physical index behind it,
// `<alias>-v<N>-<model>` (documents-v1-all-minilm-l6-v2), whose mapping `_meta` records the model
// that made its vectors. A model change builds the next version beside the live one and moves the
// alias over in one atomic `_aliases` call (commands/reindex.ts, docs/operations.md).
//
// Writers resolve the alias once, write to the physical index they found, and check the model
// recorded there against their own; readers resolve it and embed the query with the recorded
// model, so a query is never compared with vectors of another model. An index created before
// aliases (a concrete index named ELASTICSEARCH_INDEX, no `_meta`) keeps working as it did.
import { errors, type Client } from '@elastic/elasticsearch';
import { modelSlug } from '../../embed/model-profile.js';
import { errorTypeOf } from './errors.js';
import { classifyElasticsearchError, indexMapping, SinkStartupError, type ElasticsearchSettings } from './chunks.js';
import { RECORDS_MAPPING, recordsIndexOf } from './file-records.js';
import { modelMismatch, type ModelRecord } from '../model-record.js';

export { describeConfiguredModel, modelMismatch, modelRecordOf, type ModelDescription, type ModelRecord } from '../model-record.js';

/** The mapping `_meta` of a physical index keda-indexer made. */
export interface IndexMeta {
  readonly managed_by: 'keda-indexer';
  readonly alias: string;
  readonly version: number;
  readonly model: ModelRecord;
  readonly created_at: string;
}

export function physicalIndexName(alias: string, version: number, model: string): string {
  return `${alias}-v${version}-${modelSlug(model)}`;
}

/** The version of a physical index of `alias`, or undefined when the name is not one. */
export function versionOf(alias: string, index: string): number | undefined {
  if (!index.startsWith(`${alias}-v`)) return undefined;
  const match = /^(\d+)-[a-z0-9-]+$/.exec(index.slice(alias.length + 2));
  if (match?.[1] === undefined || index.endsWith('-files')) return undefined;
  return Number(match[1]);
}

export type ResolvedIndex =
  /** An alias over exactly one physical index. */
  | { readonly kind: 'alias'; readonly alias: string; readonly index: string }
  /** A concrete index of that name (created before aliases, or a physical index named directly). */
  | { readonly kind: 'concrete'; readonly index: string }
  | { readonly kind: 'missing'; readonly name: string };

const isNotFound = (error: unknown) => error instanceof errors.ResponseError && error.statusCode === 404;
const isAlreadyExists = (error: unknown) => errorTypeOf(error) === 'resource_already_exists_exception';

export async function resolveIndex(client: Client, name: string): Promise<ResolvedIndex> {
  try {
    let aliased: Record<string, unknown> | undefined;
    try {
      aliased = await client.indices.getAlias({ name });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const indices = Object.keys(aliased ?? {});
    if (indices.length > 1) {
      throw new SinkStartupError(
        `alias ${name} points at ${indices.length} indices (${indices.join(', ')}); keda-indexer needs exactly one. ` +
          'Fix: keep one with `keda-indexer reindex flip --to INDEX`.',
      );
    }
    if (indices[0] !== undefined) return { kind: 'alias', alias: name, index: indices[0] };
    if (await client.indices.exists({ index: name })) return { kind: 'concrete', index: name };
    return { kind: 'missing', name };
  } catch (error) {
    if (error instanceof SinkStartupError) throw error;
    throw classifyElasticsearchError(error, `resolve index ${name}`);
  }
}

/** The `_meta` keda-indexer recorded on a physical index; undefined for an index made without it. */
export async function readIndexMeta(client: Client, index: string): Promise<IndexMeta | undefined> {
  try {
    const mapping = await client.indices.getMapping({ index });
    const meta = Object.values(mapping)[0]?.mappings._meta as Partial<IndexMeta> | undefined;
    return meta?.managed_by === 'keda-indexer' && meta.model !== undefined ? (meta as IndexMeta) : undefined;
  } catch (error) {
    throw classifyElasticsearchError(error, `read mapping of ${index}`);
  }
}

/**
 * Creates physical index `index` with the chunk mapping and `_meta`, and its records index. The
 * alias is left alone. 'exists' when it was there already (another writer made it first).
 */
export async function createPhysicalIndex(
  client: Client,
  index: string,
  meta: Omit<IndexMeta, 'managed_by' | 'created_at'>,
  settings: Pick<ElasticsearchSettings, 'similarity' | 'indexOptions'>,
): Promise<'created' | 'exists'> {
  const full: IndexMeta = { managed_by: 'keda-indexer', ...meta, created_at: new Date().toISOString() };
  let outcome: 'created' | 'exists' = 'created';
  try {
    await client.indices.create({ index, mappings: { ...indexMapping(meta.model.dims, settings), _meta: { ...full } } });
  } catch (error) {
    if (!isAlreadyExists(error)) throw classifyElasticsearchError(error, `create index ${index}`);
    outcome = 'exists';
  }
  try {
    await client.indices.create({ index: recordsIndexOf(index), mappings: RECORDS_MAPPING, settings: { number_of_shards: 1 } });
  } catch (error) {
    if (!isAlreadyExists(error)) throw classifyElasticsearchError(error, `create index ${recordsIndexOf(index)}`);
  }
  return outcome;
}

export interface WriteTarget {
  /** The physical index to write chunks to (its records: `<index>-files`). */
  readonly index: string;
  /** The alias it was reached through; undefined for a concrete index. */
  readonly alias?: string;
  /** What was created: the first version and the alias on an empty cluster. */
  readonly created: boolean;
}

/**
 * Where a writer of `model` writes: the index behind ELASTICSEARCH_INDEX. On an empty cluster
 * this creates version 1 and the alias. Refuses an index whose recorded model is another one.
 */
export async function resolveWriteTarget(client: Client, settings: ElasticsearchSettings, model: ModelRecord): Promise<WriteTarget> {
  const name = settings.index;
  const resolved = await resolveIndex(client, name);
  if (resolved.kind === 'missing') {
    const index = physicalIndexName(name, 1, model.source);
    await createPhysicalIndex(client, index, { alias: name, version: 1, model }, settings);
    try {
      // Adding an alias that is already there is a no-op: several workers starting at once agree.
      await client.indices.updateAliases({ actions: [{ add: { index, alias: name } }] });
    } catch (error) {
      throw classifyElasticsearchError(error, `add alias ${name} → ${index}`);
    }
    // Another writer may have put the alias elsewhere first: whatever it points at now wins.
    const now = await resolveIndex(client, name);
    if (now.kind === 'alias' && now.index !== index) return resolveWriteTarget(client, settings, model);
    return { index, alias: name, created: true };
  }
  const meta = await readIndexMeta(client, resolved.index);
  if (meta !== undefined) {
    const mismatch = modelMismatch(meta.model, model);
    if (mismatch !== undefined) {
      throw new SinkStartupError(
        `index ${resolved.index}${resolved.kind === 'alias' ? ` (behind alias ${name})` : ''} holds vectors of ${mismatch}. ` +
          `Fix: set EMBEDDING_MODEL (and its prefixes) to ${meta.model.source}, or point ELASTICSEARCH_INDEX at an index made for ${model.name} ` +
          '(`keda-indexer reindex create --model …`, docs/operations.md "Change the embedding model").',
      );
    }
  }
  return { index: resolved.index, ...(resolved.kind === 'alias' ? { alias: name } : {}), created: false };
}

/** One physical index of an alias, as `reindex status` lists them. */
export interface IndexVersion {
  readonly index: string;
  readonly version: number;
  readonly meta?: IndexMeta;
  readonly live: boolean;
}

/** Every physical index of `alias` (and the concrete index of that name, as version 0), oldest first. */
export async function listVersions(client: Client, alias: string): Promise<IndexVersion[]> {
  const resolved = await resolveIndex(client, alias);
  let names: string[];
  try {
    const found = await client.indices.get({ index: `${alias}-v*`, expand_wildcards: 'open', allow_no_indices: true });
    names = Object.keys(found);
  } catch (error) {
    throw classifyElasticsearchError(error, `list indices ${alias}-v*`);
  }
  const versions: IndexVersion[] = [];
  if (resolved.kind === 'concrete') versions.push({ index: alias, version: 0, live: true });
  for (const index of names) {
    const version = versionOf(alias, index);
    if (version === undefined) continue;
    const meta = await readIndexMeta(client, index);
    versions.push({ index, version, ...(meta === undefined ? {} : { meta }), live: resolved.kind === 'alias' && resolved.index === index });
  }
  return versions.sort((a, b) => a.version - b.version || a.index.localeCompare(b.index));
}

/**
 * Watches where the alias points, for a writer that resolved it at start: calls `onMoved` once
 * when it points elsewhere (or nowhere). Errors of a check are passed to `onError` and the watch
 * goes on: an unreachable cluster is not a moved alias.
 */
export function watchAlias(
  client: Client,
  target: { readonly alias: string; readonly index: string },
  intervalMs: number,
  handlers: { onMoved: (now: ResolvedIndex) => void; onError: (error: unknown) => void },
): { stop(): void } {
  let stopped = false;
  let running = false;
  const timer = setInterval(() => {
    if (stopped || running) return;
    running = true;
    resolveIndex(client, target.alias)
      .then((now) => {
        if (stopped || (now.kind === 'alias' && now.index === target.index)) return;
        stopped = true;
        clearInterval(timer);
        handlers.onMoved(now);
      })
      .catch(handlers.onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export { isNotFound as isIndexNotFound };
