// What a queue message asks the worker to do. Parsing is pure so every accepted shape, and every
// way a body can be wrong, is tested without a queue.
//
// Accepted bodies:
//   - an S3 event notification: Records[] with eventName ObjectCreated:*, ObjectRemoved:* or
//     ObjectTagging:* (a metadata change);
//   - the same notification wrapped in an SNS envelope (Type "Notification", Message a string);
//   - s3:TestEvent, sent by S3 when a notification is configured: acknowledged and ignored;
//   - {"bucket": "...", "key": "..."}, sent by `keda-indexer upload` or by hand (key not encoded),
//     optionally with "etag", "size", "origin": "backfill" and "force" (sent by `keda-indexer
//     backfill`; see requestBody below).
//
// parseMessage adds the worker's containment rules: a body names at most MAX_RECORDS files, each in
// a bucket (and key prefix) the worker is allowed to read (S3_ALLOWED_BUCKETS); anything else is
// refused before any object is touched.
import { describeLocations, isAllowed, isBucketName, type AllowedLocation } from '../s3-names.js';

/** One file the message is about. */
export interface FileEvent {
  /**
   * What happened to the object. A hint only: the worker indexes the object as S3 has it when the
   * message is processed, or removes its chunks when it is gone (docs/operations.md).
   */
  readonly action: 'upsert' | 'remove';
  /**
   * An S3 notification; a {"bucket","key"} request (which names an object that must exist); or a
   * request from `keda-indexer backfill` (the object was listed, but may be deleted since).
   */
  readonly origin: 'notification' | 'request' | 'backfill';
  readonly bucket: string;
  /** Object key, decoded. */
  readonly key: string;
  /** From the notification when present; lets the fetch stage detect a newer object. */
  readonly etag?: string;
  readonly size?: number;
  /** Index the object even when its ETag and the index settings are those already indexed. */
  readonly force?: boolean;
  /**
   * The event is about the object's metadata (s3:ObjectTagging:*, or a sidecar's event redirected
   * to its document): the worker checks the metadata even without an ETag to compare.
   */
  readonly metadataOnly?: boolean;
}

/** The optional fields of a {"bucket","key"} request, as `keda-indexer backfill` sends them. */
export interface RequestFields {
  readonly etag?: string;
  readonly size?: number;
  readonly origin?: 'backfill';
  readonly force?: boolean;
}

/** The body of a {"bucket","key"} request: the writer that matches the parser below. */
export function requestBody(bucket: string, key: string, fields: RequestFields = {}): string {
  return JSON.stringify({ bucket, key, ...fields });
}

export type ParsedMessage =
  | { readonly kind: 'files'; readonly events: readonly FileEvent[] }
  /** Nothing to do (s3:TestEvent); the message is acknowledged. */
  | { readonly kind: 'ignore'; readonly reason: string }
  /** A body no retry can fix: dead-lettered with this reason. */
  | { readonly kind: 'invalid'; readonly reason: string }
  /**
   * Well-formed, but naming an object outside S3_ALLOWED_BUCKETS: dead-lettered (forbidden_bucket)
   * with nothing fetched, the first such file named.
   */
  | { readonly kind: 'forbidden'; readonly reason: string; readonly file: FileEvent };

/** SQS caps bodies at 1 MiB; anything larger did not come from SQS and is not parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Records one message may carry. S3 sends one per message; a body with thousands would be processed
 * serially under one lease, and one bad record would dead-letter all the others with it.
 */
export const MAX_RECORDS = 10;
/** S3 keys are at most 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(reason: string): ParsedMessage {
  return { kind: 'invalid', reason };
}

/**
 * S3 notifications URL-encode keys and write spaces as '+' (form encoding), so '+' must become a
 * space before percent-decoding; a literal '+' in a key arrives as %2B.
 */
export function decodeS3EventKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

const NOT_A_BUCKET = 'bucket name is not a valid S3 bucket name (3–255 letters, digits, . _ -; starting and ending with a letter or digit)';

function checkKey(key: string): string | undefined {
  if (key.length === 0) return 'empty object key';
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) return `object key longer than ${MAX_KEY_BYTES} bytes`;
  return undefined;
}

function parseRecord(record: Json, index: number): FileEvent | string {
  if (!isObject(record)) return `Records[${index}] is not an object`;
  const eventName = record.eventName;
  if (typeof eventName !== 'string') return `Records[${index}].eventName missing`;
  let action: FileEvent['action'];
  const metadataOnly = eventName.startsWith('ObjectTagging:');
  if (eventName.startsWith('ObjectCreated:') || metadataOnly) action = 'upsert';
  else if (eventName.startsWith('ObjectRemoved:')) action = 'remove';
  else return `Records[${index}]: unsupported event ${eventName}`;

  const s3 = record.s3;
  if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object)) {
    return `Records[${index}].s3 missing bucket or object`;
  }
  const bucket = s3.bucket.name;
  const rawKey = s3.object.key;
  if (typeof bucket !== 'string' || bucket.length === 0) return `Records[${index}]: bucket name missing`;
  if (!isBucketName(bucket)) return `Records[${index}]: ${NOT_A_BUCKET}`;
  if (typeof rawKey !== 'string') return `Records[${index}]: object key missing`;
  let key: string;
  try {
    key = decodeS3EventKey(rawKey);
  } catch {
    return `Records[${index}]: object key is not valid URL encoding`;
  }
  const keyProblem = checkKey(key);
  if (keyProblem !== undefined) return `Records[${index}]: ${keyProblem}`;

  const etag = s3.object.eTag;
  const size = s3.object.size;
  return {
    action,
    origin: 'notification',
    bucket,
    key,
    ...(typeof etag === 'string' && etag.length > 0 ? { etag } : {}),
    ...(typeof size === 'number' ? { size } : {}),
    ...(metadataOnly ? { metadataOnly } : {}),
  };
}

function parseNotification(body: { [key: string]: Json }): ParsedMessage {
  if (body.Event === 's3:TestEvent') return { kind: 'ignore', reason: 's3:TestEvent' };

  if (body.Type === 'Notification' && typeof body.Message === 'string') {
    // SNS → SQS without raw delivery: the S3 notification is a JSON string inside.
    return parseBody(body.Message);
  }

  if (Array.isArray(body.Records)) {
    if (body.Records.length === 0) return invalid('notification has no Records');
    if (body.Records.length > MAX_RECORDS) return invalid(`notification has ${body.Records.length} Records; at most ${MAX_RECORDS} are accepted (S3 sends one)`);
    const events: FileEvent[] = [];
    for (const [index, record] of body.Records.entries()) {
      const parsed = parseRecord(record, index);
      if (typeof parsed === 'string') return invalid(parsed);
      events.push(parsed);
    }
    return { kind: 'files', events };
  }

  if ('bucket' in body || 'key' in body) {
    const { bucket, key } = body;
    if (typeof bucket !== 'string' || bucket.length === 0) return invalid('"bucket" must be a non-empty string');
    if (!isBucketName(bucket)) return invalid(`"bucket": ${NOT_A_BUCKET}`);
    if (typeof key !== 'string') return invalid('"key" must be a string');
    const keyProblem = checkKey(key);
    if (keyProblem !== undefined) return invalid(keyProblem);
    const { etag, size, origin, force } = body;
    if (etag !== undefined && (typeof etag !== 'string' || etag.length === 0)) return invalid('"etag" must be a non-empty string');
    if (size !== undefined && (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)) return invalid('"size" must be a whole number of bytes');
    if (origin !== undefined && origin !== 'request' && origin !== 'backfill') return invalid('"origin" must be "request" or "backfill"');
    if (force !== undefined && typeof force !== 'boolean') return invalid('"force" must be true or false');
    const event: FileEvent = {
      action: 'upsert',
      origin: origin ?? 'request',
      bucket,
      key,
      ...(etag === undefined ? {} : { etag }),
      ...(size === undefined ? {} : { size }),
      ...(force === true ? { force } : {}),
    };
    return { kind: 'files', events: [event] };
  }

  return invalid('unrecognised message: expected an S3 notification, an SNS envelope or {"bucket","key"}');
}

/** Parses one SQS message body. Never throws. */
export function parseBody(body: string): ParsedMessage {
  if (Buffer.byteLength(body, 'utf8') > MAX_BODY_BYTES) {
    return invalid(`body larger than ${MAX_BODY_BYTES} bytes`);
  }
  let json: Json;
  try {
    json = JSON.parse(body) as Json;
  } catch (error) {
    // V8's message quotes the start of the body; reasons end up in logs, so keep only the position.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    return invalid(`body is not JSON${position === undefined ? '' : ` (error at character ${position})`}`);
  }
  if (!isObject(json)) return invalid('body is JSON but not an object');
  return parseNotification(json);
}

/**
 * Parses one SQS message body and checks that every file it names is one the worker may read.
 * Never throws. The check covers removals too: a forged ObjectRemoved must not delete another
 * bucket's chunks, nor probe whether its objects exist.
 */
export function parseMessage(body: string, allowed: readonly AllowedLocation[]): ParsedMessage {
  const parsed = parseBody(body);
  if (parsed.kind !== 'files') return parsed;
  const outside = parsed.events.find((event) => !isAllowed(allowed, event.bucket, event.key));
  if (outside === undefined) return parsed;
  return {
    kind: 'forbidden',
    reason: `s3://${outside.bucket}/${outside.key} is outside the buckets this worker may read (S3_ALLOWED_BUCKETS: ${describeLocations(allowed) || 'none'})`,
    file: outside,
  };
}
