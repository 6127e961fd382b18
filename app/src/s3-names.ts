// What a bucket name may look like, and which buckets (and key prefixes) the worker may read.
// Pure, so the configuration (S3_ALLOWED_BUCKETS) and the message parser share one rule.

/**
 * S3's rules, loosened as far as us-east-1's legacy buckets need (upper case, `_`, up to 255
 * characters), and no further: no `/`, no spaces, no control characters, nothing a URL path or
 * a log line could be bent with. Starts and ends with a letter or digit; no `..`.
 */
const BUCKET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{1,253})[A-Za-z0-9]$/;

export function isBucketName(name: string): boolean {
  return BUCKET_NAME.test(name) && !name.includes('..');
}

/** One entry of S3_ALLOWED_BUCKETS: a whole bucket (prefix '') or the keys under a prefix. */
export interface AllowedLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/** `bucket` or `bucket/prefix`; undefined when it is neither. */
export function parseAllowedLocation(entry: string): AllowedLocation | undefined {
  const slash = entry.indexOf('/');
  const bucket = slash === -1 ? entry : entry.slice(0, slash);
  const prefix = slash === -1 ? '' : entry.slice(slash + 1);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (!isBucketName(bucket) || /[\u0000-\u001f\u007f-\u009f]/.test(prefix)) return undefined;
  return { bucket, prefix };
}

/** Entries separated by commas or white space; empty entries are dropped. */
export function splitAllowedList(raw: string): string[] {
  return raw.split(/[\s,]+/).filter((entry) => entry !== '');
}

/**
 * The locations a worker may read: S3_ALLOWED_BUCKETS when set, else the whole of S3_BUCKET, else
 * none (the worker refuses to start rather than dead-letter every message).
 */
export function allowedLocationsOf(s3: { readonly bucket: string; readonly allowedBuckets: readonly string[] }): AllowedLocation[] {
  const entries = s3.allowedBuckets.length > 0 ? s3.allowedBuckets : s3.bucket === '' ? [] : [s3.bucket];
  return entries.map((entry) => parseAllowedLocation(entry)).filter((location) => location !== undefined);
}

/**
 * Whether s3://bucket/key lies in an allowed location. Under a prefix, a key with a `.` or `..`
 * path segment is refused: S3 keeps such keys literally, but an HTTP layer that normalised the
 * path would read another key than the one the prefix was checked on.
 */
export function isAllowed(locations: readonly AllowedLocation[], bucket: string, key: string): boolean {
  return locations.some((location) => {
    if (location.bucket !== bucket) return false;
    if (location.prefix === '') return true;
    return key.startsWith(location.prefix) && !key.split('/').some((segment) => segment === '.' || segment === '..');
  });
}

/** For messages and logs: `docs, archive/2024/`. */
export function describeLocations(locations: readonly AllowedLocation[]): string {
  return locations.map((location) => (location.prefix === '' ? location.bucket : `${location.bucket}/${location.prefix}`)).join(', ');
}
