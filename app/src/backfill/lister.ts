// Lists the objects under a prefix with ListObjectsV2, page by page through the SDK's paginator
// (it carries the continuation token). S3 returns keys in UTF-8 byte order, which is also the
// order StartAfter resumes in, so a key from this listing is a valid --start-after.
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import type { BackfillTarget } from './target.js';

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** As S3 lists it, quotes included. */
  readonly etag?: string;
  readonly lastModified?: Date;
}

export interface ListOptions {
  /** List only keys after this one (exclusive): where an interrupted run stopped. */
  readonly startAfter?: string;
  /** Keys per request (S3's maximum and default is 1000). */
  readonly pageSize?: number;
}

export async function* listObjects(s3: S3Client, target: BackfillTarget, options: ListOptions = {}): AsyncGenerator<ListedObject> {
  const pages = paginateListObjectsV2(
    { client: s3, ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }) },
    {
      Bucket: target.bucket,
      ...(target.prefix === '' ? {} : { Prefix: target.prefix }),
      ...(options.startAfter === undefined ? {} : { StartAfter: options.startAfter }),
    },
  );
  for await (const page of pages) {
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      yield {
        key: object.Key,
        size: object.Size ?? 0,
        ...(object.ETag === undefined ? {} : { etag: object.ETag }),
        ...(object.LastModified === undefined ? {} : { lastModified: object.LastModified }),
      };
    }
  }
}
