// The shape of one chunk in the index: readable by Haystack 2's ElasticsearchDocumentStore
// (id, content, embedding, and meta flat at the top level) and by any plain kNN query.
import { createHash } from 'node:crypto';

export interface ChunkDocument {
  /** Same as the Elasticsearch _id; Haystack reads it back as Document.id. */
  readonly id: string;
  readonly content: string;
  readonly embedding: readonly number[];
  readonly file_path: string;
  readonly source_id: string;
  readonly split_id: number;
  readonly split_idx_start: number;
  readonly page_number?: number;
  readonly content_type: string;
  readonly indexed_at: string;
}

/** Identity of a file from its location, so every worker and every re-delivery agrees on it. */
export function sourceIdOf(filePath: string): string {
  return createHash('sha256').update(filePath).digest('hex').slice(0, 32);
}

/** Deterministic per chunk: re-indexing overwrites instead of duplicating. */
export function chunkIdOf(sourceId: string, splitId: number): string {
  return `${sourceId}-${splitId}`;
}

export function s3FilePath(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
