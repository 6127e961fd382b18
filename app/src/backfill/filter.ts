// Which listed objects a backfill enqueues. Pure, so each rule is tested without S3.
import type { ListedObject } from './lister.js';

export interface ObjectFilter {
  /** Key endings to keep, compared case-insensitively; an empty string keeps every key. */
  readonly suffixes: readonly string[];
  /** Keep objects last modified at or after this time. */
  readonly modifiedSince?: Date;
  /** Keep objects of at most this many bytes. */
  readonly maxSize?: number;
}

export type SkipReason = 'folder' | 'suffix' | 'modified_before' | 'too_large';

/** Why `object` is not enqueued, or undefined when it is. */
export function skipReasonOf(object: ListedObject, filter: ObjectFilter): SkipReason | undefined {
  // Consoles create zero-byte "folder/" objects; they are not documents.
  if (object.key.endsWith('/') && object.size === 0) return 'folder';
  const key = object.key.toLowerCase();
  if (!filter.suffixes.some((suffix) => key.endsWith(suffix.toLowerCase()))) return 'suffix';
  if (filter.modifiedSince !== undefined && (object.lastModified === undefined || object.lastModified < filter.modifiedSince)) return 'modified_before';
  if (filter.maxSize !== undefined && object.size > filter.maxSize) return 'too_large';
  return undefined;
}

/** "2024-05-01" or a full ISO 8601 time → Date; undefined when it is not one. */
export function parseTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text.trim())) return undefined;
  const time = new Date(text.trim());
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** 1234567 → "1.2 MB": for summaries people read. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    if (value < 1000) break;
    value /= 1000;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}
