// A file's metadata as fields of each of its chunks (store/document.ts): `meta`, and the access
// fields when access control is on.
import type { ChunkDocument } from '../store/document.js';
import type { FileMetadata } from './merge.js';

export type ChunkMetadataFields = Pick<ChunkDocument, 'meta' | 'acl_principals' | 'acl_public'>;

export function chunkMetadataOf(metadata: FileMetadata | undefined): ChunkMetadataFields {
  if (metadata === undefined) return {};
  return {
    ...(Object.keys(metadata.meta).length === 0 ? {} : { meta: metadata.meta }),
    ...(metadata.access === undefined ? {} : { acl_principals: metadata.access.principals, acl_public: metadata.access.public }),
  };
}
