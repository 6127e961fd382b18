// A metadata-only change (tags, sidecar, user metadata; the object itself unchanged): the file's
// chunks are rewritten with the new metadata under a new claim, from their stored sources, so
// nothing is downloaded, converted or embedded. Not an update-by-query: that lives in the reindex
// module (with painless for its script), which minimal distributions such as the integ-test zip
// the dev stack runs leave out; and an update cannot carry an external version, so it could not be
// fenced by the claim's generation. A realtime multi-get and a bulk index at the claim's generation
// can: an older claim's rewrite is refused where a newer one wrote.
import type { Client } from '@elastic/elasticsearch';
import { PermanentError, TransientError } from '../../failure.js';
import type { ChunkMetadataFields } from '../../metadata/chunk-fields.js';
import { chunkIdOf } from '../document.js';
import { classifyElasticsearchError, isTransientStatus, withoutFieldValues } from './errors.js';
import type { RecordClaim } from './file-records.js';
import { metaOfSource } from './metadata-fields.js';

export type MetadataRewrite = { readonly updated: number; readonly superseded: boolean } | 'missing';

const WINDOW = 256;
const VERSION_CONFLICT = 409;

/**
 * Rewrites the metadata of chunks [0, chunks) of the claimed file. 'missing': a chunk is not
 * there (the file was never fully written, or is being removed): the caller indexes the file
 * instead. `superseded`: a later claim wrote first; its chunks stay.
 */
export async function rewriteMetadata(client: Client, index: string, claim: RecordClaim, chunks: number, fields: ChunkMetadataFields): Promise<MetadataRewrite> {
  let updated = 0;
  for (let first = 0; first < chunks; first += WINDOW) {
    const ids = Array.from({ length: Math.min(WINDOW, chunks - first) }, (_, i) => chunkIdOf(claim.sourceId, first + i));
    let found;
    try {
      found = await client.mget<Record<string, unknown>>({ index, ids, realtime: true });
    } catch (error) {
      throw classifyElasticsearchError(error, 'read chunks for a metadata update');
    }
    const operations: unknown[] = [];
    for (const doc of found.docs) {
      if (!('found' in doc) || !doc.found || doc._source === undefined) return 'missing';
      operations.push({ index: { _index: index, _id: doc._id, version: claim.generation, version_type: 'external_gte' } }, withMetadata(doc._source, fields));
    }
    let response;
    try {
      response = await client.bulk({ operations: operations, refresh: false });
    } catch (error) {
      throw classifyElasticsearchError(error, 'metadata update');
    }
    let conflict = false;
    for (const item of response.items) {
      const result = item.index;
      if (result?.error === undefined) {
        updated++;
        continue;
      }
      if (result.status === VERSION_CONFLICT) {
        conflict = true;
        continue;
      }
      const detail = `metadata update: ${result.error.type}: ${withoutFieldValues(result.error.reason ?? '')} (HTTP ${result.status})`;
      throw isTransientStatus(result.status) ? new TransientError('elasticsearch_unavailable', detail) : new PermanentError('metadata_conflict', detail);
    }
    if (conflict) return { updated, superseded: true };
  }
  return { updated, superseded: false };
}

/** The stored chunk with its old metadata and access fields replaced by the new ones. */
function withMetadata(source: Record<string, unknown>, fields: ChunkMetadataFields): Record<string, unknown> {
  const old = new Set([...Object.keys(metaOfSource(source)), 'acl_principals', 'acl_public']);
  const chunk = Object.fromEntries(Object.entries(source).filter(([name]) => !old.has(name)));
  const { meta, ...access } = fields;
  return { ...(meta ?? {}), ...chunk, ...access };
}
