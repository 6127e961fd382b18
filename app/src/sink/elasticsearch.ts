// The Elasticsearch sink: creates the index with an explicit mapping, writes a file's chunks with
// deterministic ids (bulk, sized in bytes, every item checked), then deletes the file's chunks
// beyond the new count so an edited file leaves nothing stale. Removal deletes by source_id.
import { readFileSync } from 'node:fs';
import { Client, errors } from '@elastic/elasticsearch';

type ClientOptions = ConstructorParameters<typeof Client>[0];
import type { Settings } from '../config/config.js';
import { PermanentError, TransientError } from '../failure.js';
import { chunkIdOf, type ChunkDocument } from './document.js';

export type ElasticsearchSettings = Settings['elasticsearch'];

export class SinkStartupError extends Error {
  override readonly name = 'SinkStartupError';
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
  };
  if (settings.cloudId !== '') options.cloud = { id: settings.cloudId };
  else options.node = settings.url;
  if (settings.apiKey !== '') options.auth = { apiKey: settings.apiKey };
  else if (settings.username !== '') options.auth = { username: settings.username, password: settings.password };
  if (settings.caCert !== '') options.tls = { ca: readFileSync(settings.caCert) };
  return new Client(options);
}

export function indexMapping(dims: number, settings: Pick<ElasticsearchSettings, 'similarity' | 'indexOptions'>) {
  return {
    // Unknown fields are kept in _source but not indexed: no mapping explosion from odd input.
    dynamic: false as const,
    properties: {
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
      content_type: { type: 'keyword' as const },
      indexed_at: { type: 'date' as const },
    },
  };
}

/**
 * Elasticsearch quotes the start of a value it could not parse ("Preview of field's value: '…'").
 * That is document text, and these messages go to logs and the dead-letter queue: cut it, and
 * everything after it, since a quoted value may span lines.
 */
function withoutFieldValues(message: string): string {
  return message.replace(/Preview of field's value:[\s\S]*$/, '(field value withheld)');
}

function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Maps client errors to the worker's two kinds: an unreachable or overloaded cluster is transient. */
export function classifyElasticsearchError(error: unknown, action: string): Error {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    if (isTransientStatus(status)) return new TransientError('elasticsearch_unavailable', `${action}: HTTP ${status}`, { cause: error });
    // No `cause`: the response it carries may quote document text, and logs serialise causes.
    return new PermanentError('index_rejected', `${action}: HTTP ${status} ${withoutFieldValues(error.message)}`);
  }
  if (error instanceof errors.ElasticsearchClientError) {
    return new TransientError('elasticsearch_unavailable', `${action}: ${error.name}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

export interface WriteResult {
  readonly written: number;
  readonly staleDeleted: number;
}

export class ElasticsearchSink {
  constructor(
    private readonly client: Client,
    private readonly settings: ElasticsearchSettings,
  ) {}

  get index(): string {
    return this.settings.index;
  }

  /** Creates the index if absent; an existing index must have the model's dimensions. */
  async ensureIndex(dims: number): Promise<'created' | 'exists'> {
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
        return 'exists';
      }
      await this.client.indices.create({ index, mappings: indexMapping(dims, this.settings) });
      return 'created';
    } catch (error) {
      if (error instanceof SinkStartupError) throw error;
      if (error instanceof errors.ResponseError && error.body !== undefined && JSON.stringify(error.body).includes('resource_already_exists_exception')) {
        return this.ensureIndex(dims); // another worker created it first
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

  /** Writes every chunk of one file, then removes that file's chunks past the new count. */
  async writeFile(sourceId: string, documents: readonly ChunkDocument[]): Promise<WriteResult> {
    for (const batch of this.bulkBatches(documents)) await this.bulkIndex(batch);
    const staleDeleted = await this.deleteChunks(sourceId, documents.length);
    return { written: documents.length, staleDeleted };
  }

  /** Deletes all chunks of a file (ObjectRemoved). */
  async removeFile(sourceId: string): Promise<number> {
    return this.deleteChunks(sourceId, 0);
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

  private async bulkIndex(batch: readonly { doc: ChunkDocument }[]): Promise<void> {
    const operations = batch.flatMap(({ doc }) => [{ index: { _index: this.settings.index, _id: doc.id } }, doc]);
    let response;
    try {
      response = await this.client.bulk({ operations, refresh: false });
    } catch (error) {
      throw classifyElasticsearchError(error, 'bulk write');
    }
    if (!response.errors) return;
    // Checked item by item: one rejected chunk means the file is not fully written.
    let transient: string | undefined;
    let permanent: string | undefined;
    for (const item of response.items) {
      const result = item.index;
      if (result?.error === undefined) continue;
      const detail = `${result.error.type}: ${withoutFieldValues(result.error.reason ?? '')} (HTTP ${result.status})`;
      if (isTransientStatus(result.status)) transient ??= detail;
      else permanent ??= detail;
    }
    if (transient !== undefined) throw new TransientError('elasticsearch_unavailable', `bulk write: ${transient}`);
    if (permanent !== undefined) throw new PermanentError('index_rejected', `bulk write: ${permanent}`);
  }

  /**
   * Deletes the chunks of `sourceId` numbered `fromSplitId` and up. Chunk ids are deterministic,
   * so they are probed with realtime multi-get in windows instead of a search or delete-by-query:
   * multi-get sees writes that are not refreshed yet (a file edited twice within a second), and
   * delete-by-query lives in the reindex module that minimal distributions leave out. Probing
   * stops at the first window with no chunk in it; a file's chunks are numbered without gaps.
   */
  private async deleteChunks(sourceId: string, fromSplitId: number): Promise<number> {
    const window = 64;
    let deleted = 0;
    try {
      for (let first = fromSplitId; ; first += window) {
        const ids = Array.from({ length: window }, (_, i) => chunkIdOf(sourceId, first + i));
        const found = await this.client.mget({ index: this.settings.index, ids, _source: false, realtime: true });
        const existing = found.docs.flatMap((doc) => ('found' in doc && doc.found ? [doc._id] : []));
        if (existing.length === 0) return deleted;
        const response = await this.client.bulk({
          operations: existing.map((_id) => ({ delete: { _index: this.settings.index, _id } })),
        });
        const failed = response.items.find((item) => item.delete?.error !== undefined && item.delete.status !== 404);
        if (failed?.delete?.error) {
          throw new TransientError('elasticsearch_unavailable', `delete stale chunks: ${failed.delete.error.type} (HTTP ${failed.delete.status})`);
        }
        deleted += existing.length;
      }
    } catch (error) {
      if (error instanceof TransientError) throw error;
      throw classifyElasticsearchError(error, 'delete stale chunks');
    }
  }
}
