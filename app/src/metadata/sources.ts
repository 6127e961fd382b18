// Reads a file's metadata sources from S3: its user metadata (from the GetObject the fetch stage
// makes, or a HeadObject when only metadata is needed), its tags (GetObjectTagging, when
// S3_READ_TAGS) and its sidecar (when S3_READ_SIDECARS). Any error other than "no sidecar" is
// passed on as the fetch stage's are: the file is retried, never indexed with part of its
// metadata (and so, perhaps, without the principals that restrict it).
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, NoSuchKey, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { AuthorizationError, isPermanent, PermanentError } from '../failure.js';
import { classifyS3Error } from '../fetch/s3.js';
import { mergeMetadata, type FileMetadata, type MergeSettings, type MetadataSources } from './merge.js';
import { parseSidecar, sidecarKeyOf, SIDECAR_MAX_BYTES, type ParsedSidecar } from './sidecar.js';
import { MetadataTypeError } from './values.js';

export interface MetadataReadSettings extends MergeSettings {
  /** S3_READ_METADATA: the object's user metadata. */
  readonly readObject: boolean;
  /** S3_READ_TAGS: one GetObjectTagging per file. */
  readonly readTags: boolean;
  /** S3_READ_SIDECARS: one GetObject of `<key>.metadata.json` per file. */
  readonly readSidecars: boolean;
}

/** The object as HeadObject sees it now, with its metadata; 'missing' when it is gone. */
export type CurrentObject = { readonly etag?: string; readonly metadata: FileMetadata } | 'missing';

const isNotFound = (error: unknown) => error instanceof NoSuchKey || (error instanceof S3ServiceException && (error.name === 'NotFound' || error.name === 'NoSuchKey'));

export class MetadataReader {
  constructor(
    private readonly s3: S3Client,
    readonly settings: MetadataReadSettings,
  ) {}

  /** Whether any source is read: when none is, every file's metadata is the same (empty). */
  get reads(): boolean {
    return this.settings.readObject || this.settings.readTags || this.settings.readSidecars;
  }

  /** The metadata of a fetched object: its user metadata came with the GetObject. */
  async ofFetched(bucket: string, key: string, objectMetadata: Readonly<Record<string, string>> | undefined): Promise<FileMetadata> {
    const [tags, sidecar] = await Promise.all([this.tagsOf(bucket, key), this.sidecarOf(bucket, key)]);
    return this.merge(this.sourcesOf(objectMetadata ?? {}, tags, sidecar));
  }

  /** The object's ETag and metadata as S3 has them now, without downloading it. */
  async current(bucket: string, key: string): Promise<CurrentObject> {
    let head;
    try {
      head = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return 'missing';
      throw classifyS3Error(error, bucket, key);
    }
    let tags, sidecar;
    try {
      [tags, sidecar] = await Promise.all([this.tagsOf(bucket, key), this.sidecarOf(bucket, key)]);
    } catch (error) {
      // Deleted between the HeadObject and the tags: gone, as if the HeadObject had said so.
      if (isPermanent(error) && error.reason === 'missing_object') return 'missing';
      throw error;
    }
    const metadata = this.merge(this.sourcesOf(head.Metadata ?? {}, tags, sidecar));
    return { ...(head.ETag === undefined ? {} : { etag: head.ETag }), metadata };
  }

  /** A declared field's value that does not fit is the file's fault: dead-lettered, naming the field. */
  private merge(sources: MetadataSources): FileMetadata {
    try {
      return mergeMetadata(sources, this.settings);
    } catch (error) {
      if (error instanceof MetadataTypeError) throw new PermanentError('metadata_conflict', error.message);
      throw error;
    }
  }

  private sourcesOf(objectMetadata: Readonly<Record<string, string>>, tags: Record<string, string> | undefined, sidecar: ParsedSidecar | 'absent' | undefined): MetadataSources {
    return {
      ...(this.settings.readObject ? { objectMetadata } : {}),
      ...(tags === undefined ? {} : { tags }),
      ...(sidecar === undefined ? {} : { sidecar }),
    };
  }

  private async tagsOf(bucket: string, key: string): Promise<Record<string, string> | undefined> {
    if (!this.settings.readTags) return undefined;
    try {
      const response = await this.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      return Object.fromEntries((response.TagSet ?? []).flatMap((tag) => (tag.Key === undefined ? [] : [[tag.Key, tag.Value ?? '']])));
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'AccessDenied') {
        return Promise.reject(
          new AuthorizationError('s3_access_denied', `s3://${bucket}/${key}: GetObjectTagging AccessDenied (HTTP 403)`, `grant s3:GetObjectTagging on s3://${bucket}/* to the worker's role, or set S3_READ_TAGS=false`, { cause: error }),
        );
      }
      throw classifyS3Error(error, bucket, key);
    }
  }

  private async sidecarOf(bucket: string, key: string): Promise<ParsedSidecar | 'absent' | undefined> {
    if (!this.settings.readSidecars) return undefined;
    const sidecarKey = sidecarKeyOf(key);
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: sidecarKey }));
      const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      if (response.ContentLength !== undefined && response.ContentLength > SIDECAR_MAX_BYTES) {
        body?.destroy?.();
        return { ok: false, reason: `larger than ${SIDECAR_MAX_BYTES} bytes (${response.ContentLength})` };
      }
      const parts: Uint8Array[] = [];
      let received = 0;
      for await (const part of body ?? []) {
        received += part.byteLength;
        parts.push(part);
        // Over the cap is enough for parseSidecar to refuse it; the rest is never read.
        if (received > SIDECAR_MAX_BYTES) {
          body?.destroy?.();
          break;
        }
      }
      return parseSidecar(new Uint8Array(Buffer.concat(parts)));
    } catch (error) {
      if (isNotFound(error)) return 'absent';
      throw classifyS3Error(error, bucket, sidecarKey);
    }
  }
}
