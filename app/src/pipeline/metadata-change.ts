// What an upsert event asks of a file that is already indexed: nothing (unchanged), its metadata
// only (the object is the same, its tags or sidecar or user metadata are not), or its content.
import type { Settings } from '../config/config.js';
import type { Logger } from '../observe/logger.js';
import type { FileMetadata } from '../metadata/merge.js';
import { documentKeyOf, isSidecarKey } from '../metadata/sidecar.js';
import type { MetadataReader, MetadataReadSettings } from '../metadata/sources.js';
import type { ChunkProvenance } from '../store/document.js';
import type { FileEvent } from '../source/message.js';
import type { FileIndexer } from './index-file.js';
import { sameEtag } from './index-settings.js';

export type Change = { readonly kind: 'unchanged' } | { readonly kind: 'metadata'; readonly indexed: ChunkProvenance } | { readonly kind: 'content' };

export function metadataReadSettingsOf(settings: Pick<Settings, 'metadata'>): MetadataReadSettings {
  const { readObject, readTags, readSidecars, fields, aclKey, aclDefault } = settings.metadata;
  return { readObject, readTags, readSidecars, fields, aclKey, aclDefault };
}

/**
 * The event for a sidecar's document: any event of `<key>.metadata.json` (created, changed,
 * deleted) is a metadata change of `<key>`. Undefined: a sidecar while sidecars are not read (it
 * is still not indexed as a document). Other events are returned as they are.
 */
export function sidecarEventTarget(event: FileEvent, readSidecars: boolean): FileEvent | undefined {
  if (!isSidecarKey(event.key)) return event;
  if (!readSidecars) return undefined;
  // The sidecar's ETag and size say nothing of its document's.
  return {
    origin: event.origin,
    bucket: event.bucket,
    key: documentKeyOf(event.key),
    action: 'upsert',
    metadataOnly: true,
    ...(event.force === undefined ? {} : { force: event.force }),
  };
}

/**
 * Compares the indexed file with the object: content changed when the ETag (from the event, or
 * from a HeadObject) or the index settings differ; metadata changed when only the metadata's
 * fingerprint does. A request without an ETag is indexed, as before metadata existed.
 */
export async function changeOf(event: FileEvent, filePath: string, indexer: FileIndexer, metadata: MetadataReader): Promise<Change> {
  if (event.etag === undefined && event.metadataOnly !== true) return { kind: 'content' };
  const indexed = await indexer.indexedUnderCurrentSettings(filePath);
  if (indexed?.etag === undefined) return { kind: 'content' };
  // A metadata event's ETag may be older than the object (events arrive out of order): the
  // HeadObject below says what the object is now.
  if (event.etag !== undefined && event.metadataOnly !== true && !sameEtag(indexed.etag, event.etag)) return { kind: 'content' };
  // No source read: every file's metadata is what it was (the access default aside, which a
  // settings change does not re-apply without a re-index; docs/operations.md).
  if (!metadata.reads && indexed.metadata !== undefined && event.etag !== undefined) return { kind: 'unchanged' };
  const now = await metadata.current(event.bucket, event.key);
  if (now === 'missing' || now.etag === undefined || !sameEtag(indexed.etag, now.etag)) return { kind: 'content' };
  return now.metadata.fingerprint === indexed.metadata ? { kind: 'unchanged' } : { kind: 'metadata', indexed };
}

/** Dropped keys and refused sidecars go to the file's log line as a warning (never a dead letter). */
export function warnAboutMetadata(log: Logger, metadata: FileMetadata): void {
  if (metadata.warnings.length > 0) log.warn({ warnings: metadata.warnings }, 'some of the file\'s metadata was not indexed');
}
