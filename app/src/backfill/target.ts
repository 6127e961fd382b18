// Where a backfill reads from: `s3://bucket/prefix`, parsed once so every part of the command
// agrees on the bucket and the prefix.
export interface BackfillTarget {
  readonly bucket: string;
  /** May be empty: the whole bucket. Matched literally, as S3 matches prefixes. */
  readonly prefix: string;
}

/** Parses `s3://bucket[/prefix]`; returns a message for the user when it is not one. */
export function parseS3Url(url: string): BackfillTarget | string {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/s.exec(url);
  if (match?.[1] === undefined) return `expected s3://bucket/prefix, got "${url}"`;
  return { bucket: match[1], prefix: match[2] ?? '' };
}
