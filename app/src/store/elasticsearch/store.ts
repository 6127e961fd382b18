// The Elasticsearch adapter of the chunk-store port (store/port.ts): ELASTICSEARCH_INDEX's alias
// resolved to the physical index chunks are written to, claims on per-file records kept inside
// (their generations and sequence numbers never leave this folder), search with rank fusion, the
// reindex steps, and doctor's checks.
import type { Client } from '@elastic/elasticsearch';
import type { Settings } from '../../config/config.js';
import type { DeadLetterReason } from '../../failure.js';
import { redactUrl } from '../../terminal-safe.js';
import type { ChunkMetadataFields } from '../../metadata/chunk-fields.js';
import type { ChunkProvenance, ChunkSlices, MetadataUpdateResult, ObjectIdentity, RemoveResult, WriteResult } from '../document.js';
import { modelMismatch, type ModelRecord } from '../model-record.js';
import type {
  ChunkSearcher,
  ChunkStore,
  EmbedQuery,
  RetirementHandlers,
  StoreCheck,
  StoreProvider,
  StoreQuery,
  StoreSearchResult,
  WriteClaim,
} from '../port.js';
import { createElasticsearchClient, ElasticsearchSink, type ElasticsearchSettings } from './chunks.js';
import type { RecordClaim } from './file-records.js';
import { readIndexMeta, resolveIndex, resolveWriteTarget, watchAlias, type WriteTarget } from './index-alias.js';
import { metadataMappingOf, type MetadataMappingSettings } from './metadata-fields.js';
import { ElasticsearchReindexing } from './reindex.js';
import { searchAlias } from './search.js';

/** Chunks written to the physical index behind ELASTICSEARCH_INDEX, and searched through the alias. */
export class ElasticsearchStore implements ChunkStore {
  /** The adapter's claims behind the opaque tokens handed out: only this store can use them. */
  private readonly claims = new WeakMap<WriteClaim, RecordClaim>();
  readonly description: string;

  constructor(
    private readonly client: Client,
    private readonly settings: ElasticsearchSettings,
    private readonly sink: ElasticsearchSink,
    readonly target: WriteTarget,
    /** METADATA_FIELDS and ACL_METADATA_KEY, as the mapping and the fail-closed rule need them. */
    private readonly metadata: MetadataMappingSettings,
  ) {
    this.description = `Elasticsearch index ${sink.index}`;
  }

  async claim(filePath: string): Promise<WriteClaim> {
    const claim = await this.sink.claim(filePath);
    const token: WriteClaim = Object.freeze({ filePath: claim.filePath, sourceId: claim.sourceId });
    this.claims.set(token, claim);
    return token;
  }

  async write(claim: WriteClaim, slices: ChunkSlices, provenance?: ChunkProvenance): Promise<WriteResult> {
    return await this.sink.writeFileSlices(this.recordClaimOf(claim), slices, provenance);
  }

  async remove(claim: WriteClaim, object?: ObjectIdentity): Promise<RemoveResult> {
    return await this.sink.removeFile(this.recordClaimOf(claim), object);
  }

  indexedFrom(filePath: string): Promise<ChunkProvenance | undefined> {
    return this.sink.indexedFrom(filePath);
  }

  async updateMetadata(claim: WriteClaim, chunks: number, fields: ChunkMetadataFields, object: ChunkProvenance): Promise<MetadataUpdateResult> {
    return await this.sink.updateMetadata(this.recordClaimOf(claim), chunks, fields, object);
  }

  async recordDeadLettered(claim: WriteClaim, reason: DeadLetterReason): Promise<boolean> {
    return await this.sink.recordDeadLettered(this.recordClaimOf(claim), reason);
  }

  search(query: StoreQuery, embedQuery: EmbedQuery): Promise<StoreSearchResult> {
    return searchAlias(this.client, this.settings.index, query, embedQuery, this.metadata.acl);
  }

  flush(): Promise<void> {
    return this.sink.refresh();
  }

  /** Writers that resolved the alias stop when it moves (`reindex flip`): their vectors are no longer searched. */
  watchRetirement(intervalMs: number, handlers: RetirementHandlers): { stop(): void } {
    const { alias, index } = this.target;
    if (alias === undefined) return { stop() {} };
    return watchAlias(this.client, { alias, index }, intervalMs, {
      onMoved: (now) => {
        handlers.onRetired({ alias, from: index, to: now.kind === 'missing' ? null : now.index });
      },
      onError: (error) => {
        handlers.onError(error);
      },
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private recordClaimOf(claim: WriteClaim): RecordClaim {
    const own = this.claims.get(claim);
    if (own === undefined) throw new Error(`the claim of ${claim.filePath} was not taken from ${this.description}`);
    return own;
  }
}

/** ELASTICSEARCH_* as one store: opened for writing, for reading, checked, reindexed. */
export class ElasticsearchProvider implements StoreProvider {
  readonly shared = true;
  readonly description: string;
  private client: Client | undefined;
  /** The mapping's metadata part (METADATA_FIELDS, ACL_METADATA_KEY): commands never see it. */
  private readonly metadata: MetadataMappingSettings;

  constructor(private readonly settings: Settings) {
    this.metadata = metadataMappingOf(settings);
    this.description = `Elasticsearch at ${redactUrl(settings.elasticsearch.url) || 'the configured cloud id'}`;
  }

  /** Made on first use: a command that never reaches the store opens no connection. */
  private get es(): Client {
    this.client ??= createElasticsearchClient(this.settings.elasticsearch);
    return this.client;
  }

  get reindexing(): ElasticsearchReindexing {
    return new ElasticsearchReindexing(this.es, this.settings.elasticsearch);
  }

  async openForWriting(model: ModelRecord): Promise<ElasticsearchStore> {
    const target = await resolveWriteTarget(this.es, this.settings.elasticsearch, model);
    const sink = new ElasticsearchSink(this.es, { ...this.settings.elasticsearch, index: target.index }, this.metadata);
    await sink.ensureIndex(model.dims);
    return new ElasticsearchStore(this.es, this.settings.elasticsearch, sink, target, this.metadata);
  }

  openForReading(): Promise<ChunkSearcher> {
    const client = this.es;
    const name = this.settings.elasticsearch.index;
    return Promise.resolve({
      description: `Elasticsearch index ${name}`,
      search: (query: StoreQuery, embedQuery: EmbedQuery) => searchAlias(client, name, query, embedQuery, this.metadata.acl),
      close: () => Promise.resolve(),
    });
  }

  ping(): Promise<boolean> {
    return new ElasticsearchSink(this.es, this.settings.elasticsearch).ping();
  }

  /** ELASTICSEARCH_INDEX is an alias over <alias>-v1-<model> on a fresh cluster; an existing concrete index is used as it is. */
  async prepare(model: ModelRecord): Promise<string> {
    const target = await resolveWriteTarget(this.es, this.settings.elasticsearch, model);
    const outcome = await new ElasticsearchSink(this.es, { ...this.settings.elasticsearch, index: target.index }, this.metadata).ensureIndex(model.dims);
    const where = target.alias === undefined ? target.index : `${target.alias} → ${target.index}`;
    return `${where} (${target.created ? 'created' : outcome}, ${model.dims} dims)`;
  }

  async checks(model: ModelRecord | undefined): Promise<StoreCheck[]> {
    const checks: StoreCheck[] = [];
    const client = this.es;
    const settings = this.settings.elasticsearch;
    try {
      const health = await client.cluster.health({ timeout: '5s' }, { requestTimeout: 8000, maxRetries: 0 });
      checks.push({ name: 'elasticsearch', status: health.status === 'red' ? 'fail' : 'ok', detail: `${redactUrl(settings.url) || 'cloud'} cluster ${health.cluster_name} is ${health.status}` });
      const index = settings.index;
      if (!(await client.indices.exists({ index }))) {
        checks.push({ name: 'index', status: 'warn', detail: `${index} does not exist yet`, fix: 'the worker creates it on start; or run `keda-indexer bootstrap`' });
        return checks;
      }
      const mapping = await client.indices.getMapping({ index });
      const dims = (Object.values(mapping)[0]?.mappings.properties?.embedding as { dims?: number } | undefined)?.dims;
      if (model === undefined) {
        checks.push({ name: 'index', status: 'skip', detail: `${index}: ${String(dims)} dims (model not loaded to compare)` });
      } else if (dims === model.dims) {
        // Behind an alias, the model recorded on the physical index must be this one too.
        const resolved = await resolveIndex(client, index);
        const meta = resolved.kind === 'missing' ? undefined : await readIndexMeta(client, resolved.index);
        const mismatch = meta === undefined ? undefined : modelMismatch(meta.model, model);
        const where = resolved.kind === 'alias' ? `${index} → ${resolved.index}` : index;
        if (mismatch === undefined) checks.push({ name: 'index', status: 'ok', detail: `${where}: ${dims} dims, matches the model` });
        else {
          checks.push({
            name: 'index',
            status: 'fail',
            detail: `${where} holds vectors of ${mismatch}`,
            fix: `set EMBEDDING_MODEL to ${meta?.model.source ?? 'the model the index was built with'}, or change the model with \`keda-indexer reindex\` (docs/operations.md)`,
          });
        }
      } else {
        checks.push({
          name: 'index',
          status: 'fail',
          detail: `${index} has ${String(dims)} dims; the model produces ${model.dims}`,
          fix: 'set ELASTICSEARCH_INDEX to a new index for this model, or EMBEDDING_MODEL to the one the index was built with',
        });
      }
    } catch (error) {
      checks.push({
        name: 'elasticsearch',
        status: 'fail',
        detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        fix: 'check ELASTICSEARCH_URL and credentials (ELASTICSEARCH_API_KEY, or USERNAME/PASSWORD; ELASTICSEARCH_CA_CERT for a private CA)',
      });
    }
    return checks;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
  }
}
