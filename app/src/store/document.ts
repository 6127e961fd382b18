// The shape of one chunk in the index: readable by Haystack 2's ElasticsearchDocumentStore
// (id, content, embedding, and meta flat at the top level) and by any plain kNN query.
import { createHash } from 'node:crypto';
import type { MetaFields } from '../metadata/values.js';

export interface ChunkDocument {
  /** Same as the Elasticsearch _id; Haystack reads it back as Document.id. */
  readonly id: string;
  readonly content: string;
  /** Float32Array in the pipeline (a third of a number array's size); numbers once serialised. */
  readonly embedding: Float32Array | readonly number[];
  readonly file_path: string;
  readonly source_id: string;
  readonly split_id: number;
  readonly split_idx_start: number;
  /** First page the chunk covers (Haystack's meaning: the page it starts on). */
  readonly page_number?: number;
  /** Last page the chunk covers; with page_number, the range to cite. */
  readonly page_end?: number;
  /** The named part of the file the chunk starts in: a spreadsheet's sheet, for one. */
  readonly section?: string;
  /** The chunk's text (some of it) was read by OCR. */
  readonly ocr?: boolean;
  /** OCR's mean confidence over the chunk's OCR pages, 0 to 1. */
  readonly ocr_confidence?: number;
  readonly content_type: string;
  readonly indexed_at: string;
  /**
   * The file's metadata (metadata/merge.ts): user metadata, tags, sidecar. Elasticsearch stores it
   * as flat top-level fields (Haystack's meta; filter as `meta.<name>`), the local store as is.
   */
  readonly meta?: MetaFields;
  /** Who may read the chunk (ACL_METADATA_KEY set): any of these principals, or anyone when acl_public. */
  readonly acl_principals?: readonly string[];
  readonly acl_public?: boolean;
}

/** Identity of a file from its location, so every worker and every re-delivery agrees on it. */
export function sourceIdOf(filePath: string): string {
  return createHash('sha256').update(filePath).digest('hex').slice(0, 32);
}

/** Deterministic per chunk: re-indexing overwrites instead of duplicating. */
export function chunkIdOf(sourceId: string, splitId: number): string {
  return `${sourceId}-${splitId}`;
}

/** Which object the chunks were made from, kept on the file's record (for people and tools). */
export interface ObjectIdentity {
  readonly etag?: string;
  readonly versionId?: string;
  readonly lastModified?: string;
}

/** What a file's chunks were made from: the object, and the index settings' fingerprint. */
export interface ChunkProvenance extends ObjectIdentity {
  /** pipeline/index-settings.ts: model, dims and split settings, hashed. */
  readonly indexSettings?: string;
  /** Fingerprint of the file's metadata and access fields (metadata/merge.ts). */
  readonly metadata?: string;
  /** How many chunks the file has (read back from a record; ignored on writes). */
  readonly chunks?: number;
}

export interface WriteResult {
  readonly written: number;
  readonly staleDeleted: number;
  /** A later claim of the same file came first: its chunks are the ones that stay. */
  readonly superseded: boolean;
}

export type MetadataUpdateResult = { readonly updated: number; readonly superseded: boolean } | 'missing';

export interface RemoveResult {
  readonly removed: number;
  readonly superseded: boolean;
}

/**
 * A file's chunks in slices, in split order, numbered from 0 without gaps. The pipeline makes
 * each slice (embeds it) only when the sink asks for it, so a file never has more than a slice
 * or two of vectors and request bodies in memory, however long it is.
 */
export type ChunkSlices = AsyncIterable<readonly ChunkDocument[]> | Iterable<readonly ChunkDocument[]>;

export function s3FilePath(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
