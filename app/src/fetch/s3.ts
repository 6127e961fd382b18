// The fetch stage: one S3 object into memory, streamed with a size cap. Nothing is written to
// disk, so no path is ever built from an object key.
import { GetObjectCommand, NoSuchKey, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { AuthorizationError, PermanentError, TransientError, type DeadLetterReason } from '../failure.js';

export interface FetchedObject {
  readonly bytes: Uint8Array;
  readonly etag?: string;
  readonly versionId?: string;
  /** ISO 8601. */
  readonly lastModified?: string;
  readonly contentType?: string;
  /** The object's user metadata (x-amz-meta-*, names lower case without the prefix). */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface FetchRequest {
  readonly bucket: string;
  readonly key: string;
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

const PERMANENT_S3_ERRORS: Readonly<Record<string, DeadLetterReason>> = {
  NoSuchKey: 'missing_object',
  NotFound: 'missing_object',
  NoSuchBucket: 'missing_bucket',
  InvalidObjectState: 'object_archived',
};

/** Maps an S3 error to the worker's failure kinds (docs/operations.md, "Which failures are retried"). */
export function classifyS3Error(error: unknown, bucket: string, key: string): Error {
  const where = `s3://${bucket}/${key}`;
  if (error instanceof NoSuchKey) return new PermanentError('missing_object', `${where} does not exist (deleted after the notification?)`, { cause: error });
  if (error instanceof S3ServiceException) {
    if (error.name === 'AccessDenied' || error.name === 'AllAccessDisabled') {
      return new AuthorizationError('s3_access_denied', `${where}: ${error.name} (HTTP 403)`, `grant s3:GetObject on s3://${bucket}/* (and kms:Decrypt on its key, if SSE-KMS) to the worker's role`, { cause: error });
    }
    const reason = PERMANENT_S3_ERRORS[error.name];
    if (reason !== undefined) return new PermanentError(reason, `${where}: ${error.name}`, { cause: error });
    return new TransientError('s3_unavailable', `${where}: ${error.name} (HTTP ${error.$metadata.httpStatusCode ?? '?'})`, { cause: error });
  }
  if (error instanceof PermanentError || error instanceof TransientError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new TransientError('s3_unavailable', `${where}: ${message}`, { cause: error });
}

export async function fetchObject(s3: S3Client, request: FetchRequest): Promise<FetchedObject> {
  const { bucket, key, maxBytes, signal } = request;
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal === undefined ? {} : { abortSignal: signal });
    const tooLarge = (size: number) =>
      new PermanentError('too_large', `s3://${bucket}/${key} is ${size} bytes, over the ${maxBytes}-byte limit (FETCH_MAX_BYTES)`);
    if (response.ContentLength !== undefined && response.ContentLength > maxBytes) {
      (response.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw tooLarge(response.ContentLength);
    }
    const body = response.Body as AsyncIterable<Uint8Array> | undefined;
    if (body === undefined) throw new TransientError('s3_unavailable', `s3://${bucket}/${key}: empty response body`);
    const parts: Uint8Array[] = [];
    let received = 0;
    // The declared length can be absent or wrong; the cap holds on the bytes actually read.
    for await (const part of body) {
      received += part.byteLength;
      if (received > maxBytes) {
        (body as { destroy?: () => void }).destroy?.();
        throw tooLarge(received);
      }
      parts.push(part);
    }
    return {
      bytes: new Uint8Array(Buffer.concat(parts, received)),
      ...(response.ETag === undefined ? {} : { etag: response.ETag }),
      ...(response.VersionId === undefined ? {} : { versionId: response.VersionId }),
      ...(response.LastModified === undefined ? {} : { lastModified: response.LastModified.toISOString() }),
      ...(response.ContentType === undefined ? {} : { contentType: response.ContentType }),
      ...(response.Metadata === undefined ? {} : { metadata: response.Metadata }),
    };
  } catch (error) {
    throw classifyS3Error(error, bucket, key);
  }
}
