// The Elasticsearch sink: creates the index with an explicit mapping, writes a file's chunks with
// deterministic ids (bulk, sized in bytes, every item checked), then deletes the file's chunks
// beyond the new count so an edited file leaves nothing stale. Removal deletes by probing ids.
//
// Every write is fenced by a claim on the file's record (file-records.ts): chunks carry the
// claim's generation as their external version, so a writer holding an older claim can neither
// overwrite nor delete what a newer one wrote, and it cleans up after itself when it finds out.
import { readFileSync } from 'node:fs';
import { Client, Serializer, SniffingTransport, errors } from '@elastic/elasticsearch';

type ClientOptions = ConstructorParameters<typeof Client>[0];
import type { Settings } from '../../config/config.js';
import { PermanentError, TransientError, type DeadLetterReason } from '../../failure.js';
import { classifyElasticsearchError, errorTypeOf, isTransientStatus, withoutFieldValues } from './errors.js';
import { stageCpu } from '../../observe/stage-cpu.js';
import { chunkIdOf, type ChunkDocument, type ChunkProvenance, type ChunkSlices, type MetadataUpdateResult, type ObjectIdentity, type RemoveResult, type WriteResult } from '../document.js';
import { StoreStartupError } from '../port.js';
import { FileRecords, recordsIndexOf, type RecordClaim } from './file-records.js';
import { chunkSourceOf, metadataMapping, type MetadataMappingSettings } from './metadata-fields.js';
import { rewriteMetadata } from './metadata-update.js';
import type { ChunkMetadataFields } from '../../metadata/chunk-fields.js';

export type ElasticsearchSettings = Settings['elasticsearch'];

export class SinkStartupError extends StoreStartupError {
  override readonly name: string = 'SinkStartupError';
}

/**
 * The client's own serializer, with the CPU of building request bodies (the bulk body with every
 * vector as text) counted as the `request` stage: the client serializes inside bulk(), where the
 * sink cannot measure it apart from the network wait.
 */
class MeasuredSerializer extends Serializer {
  override serialize(object: Record<string, unknown>): string {
    return stageCpu.sync('request', () => super.serialize(object));
  }

  override ndserialize(array: (Record<string, unknown> | string)[]): string {
    return stageCpu.sync('request', () => super.ndserialize(array));
  }
}

/**
 * The client's transport without its OpenTelemetry spans. The client wraps every request in a span
 * by default; keda-indexer registers no tracer, so the spans go nowhere, yet they cost a third of
 * the client's CPU per request (0.53 against 0.35 ms for a realtime get, measured on the dev
 * stack). Used unless OTEL_ELASTICSEARCH_ENABLED, the client's own switch, is set: a process
 * started with an OpenTelemetry SDK preloaded keeps its Elasticsearch spans. (The client does not
 * pass an `openTelemetry` option on to its transport, hence a subclass.)
 */
class UntracedTransport extends SniffingTransport {
  constructor(options: ConstructorParameters<typeof SniffingTransport>[0]) {
    super({ ...options, openTelemetry: { ...options.openTelemetry, enabled: false } });
  }
}

export function createElasticsearchClient(settings: ElasticsearchSettings): Client {
  if (settings.url === '' && settings.cloudId === '') {
    throw new SinkStartupError('ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID) is not set');
  }
  const options: ClientOptions = {
    requestTimeout: settings.requestTimeoutSeconds * 1000,
    // The client retries connection errors and 502/503/504 on its own; 429 is handled by
    // releasing the message with a delay, which also spreads load across workers.
    maxRetries: 3,
    Serializer: MeasuredSerializer,
  };
  if (process.env.OTEL_ELASTICSEARCH_ENABLED === undefined) options.Transport = UntracedTransport;
  if (settings.cloudId !== '') options.cloud = { id: settings.cloudId };
  else options.node = settings.url;
  if (settings.apiKey !== '') options.auth = { apiKey: settings.apiKey };
  else if (settings.username !== '') options.auth = { username: settings.username, password: settings.password };
  if (settings.caCert !== '') options.tls = { ca: readFileSync(settings.caCert) };
  return new Client(options);
}

export function indexMapping(dims: number, settings: Pick<ElasticsearchSettings, 'similarity' | 'indexOptions'>, metadata: MetadataMappingSettings = NO_METADATA) {
  // The file's metadata fields are mapped by value type as they appear (metadata-fields.ts); the
  // sink writes no other field, so dynamic mapping maps nothing else.
  const { properties: metadataProperties, ...dynamicMapping } = metadataMapping(metadata);
  return {
    ...dynamicMapping,
    properties: {
      ...metadataProperties,
      id: { type: 'keyword' as const },
      content: { type: 'text' as const },
      embedding: {
        type: 'dense_vector' as const,
        dims,
        index: true,
        similarity: settings.similarity,
        index_options: { type: settings.indexOptions },
      },
      file_path: { type: 'keyword' as const },
      source_id: { type: 'keyword' as const },
      split_id: { type: 'integer' as const },
      split_idx_start: { type: 'integer' as const },
      page_number: { type: 'integer' as const },
      page_end: { type: 'integer' as const },
      section: { type: 'keyword' as const },
      ocr: { type: 'boolean' as const },
      ocr_confidence: { type: 'float' as const },
      content_type: { type: 'keyword' as const },
      indexed_at: { type: 'date' as const },
    },
  };
}

const NO_METADATA: MetadataMappingSettings = { fields: {}, acl: false };

export { classifyElasticsearchError } from './errors.js';
export type { WriteResult } from '../document.js';

/** Elasticsearch's answer to a write whose external version is lower than the stored one. */
const VERSION_CONFLICT = 409;

/**
 * Writes and removes one file's chunks under a claim on its record: the adapter's writer, behind
 * ElasticsearchStore (store.ts), which is what the rest of the worker sees.
 */
export class ElasticsearchSink {
  private readonly records: FileRecords;

  constructor(
    private readonly client: Client,
    private readonly settings: ElasticsearchSettings,
    /** METADATA_FIELDS and whether ACL_METADATA_KEY is set: what the mapping declares up front. */
    private readonly metadata: MetadataMappingSettings = NO_METADATA,
  ) {
    this.records = new FileRecords(client, recordsIndexOf(settings.index));
  }

  get index(): string {
    return this.settings.index;
  }

  /** The index of per-file records (claims and what was last written), next to the chunks. */
  get recordsIndex(): string {
    return this.records.index;
  }

  /** Creates the index if absent; an existing index must have the model's dimensions. */
  async ensureIndex(dims: number): Promise<'created' | 'exists'> {
    // Two independent indices, checked at once: a worker's start waits one round trip less.
    const [outcome] = await Promise.all([this.ensureChunkIndex(dims), this.records.ensureIndex()]);
    return outcome;
  }

  private async ensureChunkIndex(dims: number): Promise<'created' | 'exists'> {
    const index = this.settings.index;
    try {
      if (await this.client.indices.exists({ index })) {
        const mapping = await this.client.indices.getMapping({ index });
        for (const [name, entry] of Object.entries(mapping)) {
          const embedding = entry.mappings.properties?.embedding as { type?: string; dims?: number } | undefined;
          if (embedding?.type !== 'dense_vector' || embedding.dims !== dims) {
            throw new SinkStartupError(
              `index ${name} has embedding ${embedding ? `${String(embedding.type)} with ${String(embedding.dims)} dims` : 'missing'}, ` +
                `but the model produces ${dims} dims. Fix: use a new ELASTICSEARCH_INDEX for this model, or reindex.`,
            );
          }
        }
        // Fields added since an index was created (page_end, section) are added to its mapping; adding a
        // field never changes the meaning of documents already there.
        const { properties, ...dynamicMapping } = indexMapping(dims, this.settings, this.metadata);
        const missing = Object.entries(properties).filter(([field]) => Object.values(mapping).some((entry) => entry.mappings.properties?.[field] === undefined));
        // Metadata fields (and their dynamic templates) join an index made before them.
        const dynamic = Object.values(mapping).some((entry) => entry.mappings.dynamic !== true && entry.mappings.dynamic !== 'true');
        if (missing.length > 0 || dynamic) await this.client.indices.putMapping({ index, ...dynamicMapping, properties: Object.fromEntries(missing) });
        return 'exists';
      }
      await this.client.indices.create({ index, mappings: indexMapping(dims, this.settings, this.metadata) });
      return 'created';
    } catch (error) {
      if (error instanceof SinkStartupError) throw error;
      if (error instanceof errors.ResponseError && error.body !== undefined && errorTypeOf(error) === 'resource_already_exists_exception') {
        return this.ensureChunkIndex(dims); // another worker created it first
      }
      throw classifyElasticsearchError(error, `ensure index ${index}`);
    }
  }

  /**
   * Whether the cluster answers. Cluster health rather than `HEAD /`: it also says red (a primary
   * shard unassigned, so writes would fail), and it works where the root endpoint's module is
   * left out (the bare integ-test zip; the dev stack adds the endpoint back, other nodes may not).
   */
  async ping(): Promise<boolean> {
    try {
      const health = await this.client.cluster.health({ timeout: '2s' }, { requestTimeout: 3000, maxRetries: 0 });
      return health.status !== 'red';
    } catch {
      return false;
    }
  }

  /** Takes the file's next claim; call it before reading the file (docs/operations.md). */
  claim(filePath: string): Promise<RecordClaim> {
    return this.records.claim(filePath);
  }

  /** Writes every chunk of one file under `claim`: `writeFileSlices` with a single slice. */
  writeFile(claim: RecordClaim, documents: readonly ChunkDocument[], object: ChunkProvenance = {}): Promise<WriteResult> {
    return this.writeFileSlices(claim, [documents], object);
  }

  /**
   * Writes one file's chunks under `claim` slice by slice as `slices` yields them, removes that
   * file's chunks past the new count, then completes the claim on the file's record. If a later
   * claim came first, the chunks this call wrote that the later claim did not overwrite are
   * deleted again, and it says so. If a slice cannot be made or written, or the stale chunks
   * cannot be removed, every chunk of the file is deleted before the error is passed on: a file
   * that fails halfway leaves no mix of old and new chunks (docs/operations.md, "Large files").
   */
  async writeFileSlices(claim: RecordClaim, slices: ChunkSlices, object: ChunkProvenance = {}): Promise<WriteResult> {
    // Chunk ids [0, attempted) may hold this claim's chunks: counted before each bulk request,
    // since a request that fails may still have landed in part.
    let attempted = 0;
    let superseded = false;
    let staleDeleted = 0;
    try {
      for await (const slice of slices) {
        slice.forEach((doc, i) => {
          if (doc.split_id !== attempted + i) throw new Error(`slice out of order: split_id ${doc.split_id} at chunk ${attempted + i}`);
        });
        for (const batch of this.bulkBatches(slice)) {
          attempted += batch.length;
          if (await this.bulkIndex(batch, claim.generation)) {
            superseded = true;
            break;
          }
        }
        // Leaving the loop ends the slices: nothing more is embedded for a superseded claim.
        if (superseded) break;
      }
      if (!superseded) staleDeleted = await this.deleteChunks(claim, attempted);
    } catch (error) {
      if (attempted === 0) throw error; // nothing was sent: the file's chunks are as they were
      throw await this.rollBack(claim, error, attempted);
    }
    superseded ||= !(await this.records.complete(claim, { state: 'indexed', chunks: attempted, object }));
    if (superseded) {
      await this.deleteOwnChunks(claim, attempted);
      return { written: 0, staleDeleted, superseded };
    }
    return { written: attempted, staleDeleted, superseded };
  }

  /**
   * After a failure halfway through a file: deletes all of its chunks at the claim's generation
   * (what this claim wrote, and the older ones it had not overwritten yet), so that neither a
   * reader nor the retry finds a mix. Returns the error to throw: the original one, or, when the
   * cleanup fails too, a transient one, so the message comes back (its retry overwrites the mix)
   * rather than going to the dead-letter queue with a mix left in the index.
   */
  private async rollBack(claim: RecordClaim, failure: unknown, attempted: number): Promise<unknown> {
    try {
      await this.deleteChunks(claim, 0, attempted);
      return failure;
    } catch (cleanupError) {
      const what = failure instanceof Error ? failure.message : String(failure);
      const why = cleanupError instanceof Error ? cleanupError.message : String(cleanupError);
      return new TransientError('elasticsearch_unavailable', `${what}; removing the partly written file failed too (${why})`, { cause: failure });
    }
  }

  /** From the file's record: what its chunks were made from, when they are all written. */
  async indexedFrom(filePath: string): Promise<ChunkProvenance | undefined> {
    let record;
    try {
      record = await this.records.read(filePath);
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new TransientError('elasticsearch_unavailable', `read file record: ${detail}`, { cause: error });
    }
    if (record?.state !== 'indexed') return undefined;
    return {
      ...(record.etag === undefined ? {} : { etag: record.etag }),
      ...(record.index_settings === undefined ? {} : { indexSettings: record.index_settings }),
      ...(record.version_id === undefined ? {} : { versionId: record.version_id }),
      ...(record.last_modified === undefined ? {} : { lastModified: record.last_modified }),
      ...(record.metadata === undefined ? {} : { metadata: record.metadata }),
      ...(record.chunks === undefined ? {} : { chunks: record.chunks }),
    };
  }

  /**
   * Rewrites the metadata fields of the claimed file's chunks in place (metadata-update.ts) and
   * completes the claim: nothing is embedded. 'missing' when the file's chunks are not all there.
   */
  async updateMetadata(claim: RecordClaim, chunks: number, fields: ChunkMetadataFields, object: ChunkProvenance): Promise<MetadataUpdateResult> {
    const rewrite = await rewriteMetadata(this.client, this.settings.index, claim, chunks, fields);
    if (rewrite === 'missing' || rewrite.superseded) return rewrite === 'missing' ? rewrite : { updated: 0, superseded: true };
    const completed = await this.records.complete(claim, { state: 'indexed', chunks, object });
    return { updated: completed ? rewrite.updated : 0, superseded: !completed };
  }

  /** Records the dead-lettering of the claimed file; its chunks are left as they are. */
  recordDeadLettered(claim: RecordClaim, reason: DeadLetterReason): Promise<boolean> {
    return this.records.complete(claim, { state: 'dead_lettered', reason, object: {} });
  }

  /** Deletes all chunks of a file (the object is gone) and records the removal. */
  async removeFile(claim: RecordClaim, object: ObjectIdentity = {}): Promise<RemoveResult> {
    const removed = await this.deleteChunks(claim, 0);
    const completed = await this.records.complete(claim, { state: 'absent', chunks: 0, object });
    return { removed, superseded: !completed };
  }

  async refresh(): Promise<void> {
    await this.client.indices.refresh({ index: this.settings.index });
  }

  private *bulkBatches(documents: readonly ChunkDocument[]): Generator<{ doc: ChunkDocument; bytes: number }[]> {
    let batch: { doc: ChunkDocument; bytes: number }[] = [];
    let bytes = 0;
    for (const doc of documents) {
      // Vector floats dominate the size: ~20 bytes each as JSON, plus the text.
      const size = doc.embedding.length * 20 + Buffer.byteLength(doc.content) + 512;
      if (batch.length > 0 && bytes + size > this.settings.bulkMaxBytes) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push({ doc, bytes: size });
      bytes += size;
    }
    if (batch.length > 0) yield batch;
  }

  /** Writes one batch with `generation` as external version; true when a later claim's chunk was in the way. */
  private async bulkIndex(batch: readonly { doc: ChunkDocument }[], generation: number): Promise<boolean> {
    const operations = batch.flatMap(({ doc }) => [
      // external_gte, not external: the client's own retry of a bulk may resend items that landed.
      { index: { _index: this.settings.index, _id: doc.id, version: generation, version_type: 'external_gte' as const } },
      // Metadata flattened, the vector as numbers: one request at a time (metadata-fields.ts).
      chunkSourceOf(doc),
    ]);
    let response;
    try {
      response = await this.client.bulk({ operations, refresh: false });
    } catch (error) {
      throw classifyElasticsearchError(error, 'bulk write');
    }
    if (!response.errors) return false;
    // Checked item by item: one rejected chunk means the file is not fully written.
    let transient: string | undefined;
    let permanent: string | undefined;
    let conflict = false;
    for (const item of response.items) {
      const result = item.index;
      if (result?.error === undefined) continue;
      if (result.status === VERSION_CONFLICT) {
        conflict = true;
        continue;
      }
      const detail = `${result.error.type}: ${withoutFieldValues(result.error.reason ?? '')} (HTTP ${result.status})`;
      if (isTransientStatus(result.status)) transient ??= detail;
      else permanent ??= detail;
    }
    if (transient !== undefined) throw new TransientError('elasticsearch_unavailable', `bulk write: ${transient}`);
    if (permanent !== undefined) throw new PermanentError('index_rejected', `bulk write: ${permanent}`);
    return conflict;
  }

  /**
   * Deletes chunk ids [0, count) of a superseded claim, where they still hold this claim's chunks
   * or older ones: a delete at the claim's generation cannot touch what a later claim wrote.
   */
  private async deleteOwnChunks(claim: RecordClaim, count: number): Promise<void> {
    for (const ids of idWindows(claim.sourceId, 0, count).reverse()) await this.bulkDelete(ids, claim.generation, 'delete superseded chunks');
  }

  /** Deletes ids at `generation`; absent ids and ids a later claim holds are left alone. */
  private async bulkDelete(ids: readonly string[], generation: number, action: string): Promise<number> {
    let response;
    try {
      response = await this.client.bulk({
        operations: ids.map((_id) => ({ delete: { _index: this.settings.index, _id, version: generation, version_type: 'external_gte' as const } })),
      });
    } catch (error) {
      throw classifyElasticsearchError(error, action);
    }
    let deleted = 0;
    for (const item of response.items) {
      const result = item.delete;
      if (result === undefined) continue;
      if (result.error === undefined) {
        if (result.result === 'deleted') deleted++;
        continue;
      }
      if (result.status === 404 || result.status === VERSION_CONFLICT) continue;
      throw new TransientError('elasticsearch_unavailable', `${action}: ${result.error.type} (HTTP ${result.status})`);
    }
    return deleted;
  }

  /**
   * Deletes the chunks of the claimed file numbered `fromSplitId` and up. Chunk ids are
   * deterministic, so they are probed with realtime multi-get in windows instead of a search or
   * delete-by-query: multi-get sees writes that are not refreshed yet (a file edited twice within
   * a second), and delete-by-query lives in the reindex module that minimal distributions leave
   * out. Probing stops at the first window with no chunk in it; a file's chunks are numbered
   * without gaps, and deleting highest first keeps it so when a cleanup is cut short. Ids below
   * `probeFrom` (a rollback's own chunks) are deleted without probing. Deletes carry the claim's
   * generation, so a later claim's chunks stay.
   */
  private async deleteChunks(claim: RecordClaim, fromSplitId: number, probeFrom = fromSplitId): Promise<number> {
    const probeWindow = 64;
    const windows = idWindows(claim.sourceId, fromSplitId, probeFrom);
    let deleted = 0;
    try {
      for (let first = probeFrom; ; first += probeWindow) {
        const ids = idWindows(claim.sourceId, first, first + probeWindow)[0] ?? [];
        const found = await this.client.mget({ index: this.settings.index, ids, _source: false, realtime: true });
        const existing = found.docs.flatMap((doc) => ('found' in doc && doc.found ? [doc._id] : []));
        if (existing.length === 0) break;
        windows.push(existing);
      }
      for (const ids of windows.reverse()) deleted += await this.bulkDelete(ids, claim.generation, 'delete stale chunks');
      return deleted;
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw classifyElasticsearchError(error, 'delete stale chunks');
    }
  }
}

/** Chunk ids [from, to) of a file in windows of at most 256 (one bulk request each), lowest first. */
function idWindows(sourceId: string, from: number, to: number): string[][] {
  const windows: string[][] = [];
  for (let first = from; first < to; first += 256) {
    windows.push(Array.from({ length: Math.min(256, to - first) }, (_, i) => chunkIdOf(sourceId, first + i)));
  }
  return windows;
}
