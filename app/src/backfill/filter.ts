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

const UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** "5000", "10MB", "1.5 GiB" → bytes; undefined when it is not a size. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$/i.exec(text);
  if (match?.[1] === undefined) return undefined;
  const unit = UNITS[(match[2] ?? 'b').toLowerCase()];
  return unit === undefined ? undefined : Math.floor(Number(match[1]) * unit);
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
