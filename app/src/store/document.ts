// The shape of one chunk in the index: readable by Haystack 2's ElasticsearchDocumentStore
// (id, content, embedding, and meta flat at the top level) and by any plain kNN query.
import { createHash } from 'node:crypto';
import type { DeadLetterReason } from '../failure.js';
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

/**
 * The right to write one file's chunks, taken before the file is read. Claims of a file are
 * ordered (`generation` only grows), and a later claim always wins over an earlier one: see
 * docs/operations.md, "The latest version wins".
 */
export interface WriteClaim {
  readonly sourceId: string;
  readonly filePath: string;
  /** Grows with every claim of the file; the chunks' external version in Elasticsearch. */
  readonly generation: number;
  /** Sequence number and primary term of the claim on the file's record, for its completion. */
  readonly seqNo: number;
  readonly primaryTerm: number;
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

/** Where chunks go: Elasticsearch, or the embedded local store. */
export interface ChunkSink {
  claim(filePath: string): Promise<WriteClaim>;
  /** All of a file's chunks at once: `writeFileSlices` with one slice. */
  writeFile(claim: WriteClaim, documents: readonly ChunkDocument[], object?: ChunkProvenance): Promise<WriteResult>;
  /**
   * Writes a file slice by slice, all or nothing: when a slice cannot be made or written, the
   * chunks written so far are removed again before the error is passed on.
   */
  writeFileSlices(claim: WriteClaim, slices: ChunkSlices, object?: ChunkProvenance): Promise<WriteResult>;
  removeFile(claim: WriteClaim, object?: ObjectIdentity): Promise<RemoveResult>;
  /** What the file's chunks were last made from, when they are all written; sinks that keep no records leave it out. */
  indexedFrom?(filePath: string): Promise<ChunkProvenance | undefined>;
  /**
   * Rewrites the metadata and access fields of the claimed file's `chunks` chunks in place, with no
   * embedding, and records `object`; 'missing' when they are not all there. Stores that cannot
   * leave it out (the file is indexed again instead).
   */
  updateMetadata?(claim: WriteClaim, chunks: number, fields: Pick<ChunkDocument, 'meta' | 'acl_principals' | 'acl_public'>, object: ChunkProvenance): Promise<MetadataUpdateResult>;
  /**
   * Records that the claimed file's message was dead-lettered, so its record does not say
   * "claimed" for ever; false when a later claim came first. Sinks without records leave it out.
   */
  recordDeadLettered?(claim: WriteClaim, reason: DeadLetterReason): Promise<boolean>;
}

export function s3FilePath(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
