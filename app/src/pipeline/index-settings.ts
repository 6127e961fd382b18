// The fingerprint of everything that decides which chunks and vectors a file gets, stored on the
// file's record when it is indexed. A message naming an object whose ETag and fingerprint match
// the record is acknowledged without downloading or embedding (outcome "unchanged"): re-running a
// backfill, or a duplicate S3 notification, costs one record read. Change the model or the split
// settings, and the fingerprint changes, so every file is indexed again when next named.
import { createHash } from 'node:crypto';
import type { Settings } from '../config/config.js';

/**
 * Raise when convert or split code changes the chunks the same settings give, so files indexed
 * by the older code are not taken as unchanged. 2: control characters are stripped at conversion
 * (convert/controls.ts), so chunks indexed with them are made again when their files are next named.
 * 3: tables are split by rows with their header repeated (split/splitter.ts), HTML, Markdown and
 * DOCX tables come out as rows, and chunks record their section.
 */
export const CHUNKING_VERSION = 3;

export interface IndexSettings {
  readonly model: string;
  readonly dims: number;
  readonly dtype: Settings['embedding']['dtype'];
  readonly passagePrefix: string;
  readonly split: Settings['split'];
  /** The split's token limit after capping it at the model's own (what the splitter really uses). */
  readonly maxTokens: number;
}

/** A short, stable hash: equal settings give equal fingerprints whatever the key order. */
export function indexSettingsFingerprint(settings: IndexSettings): string {
  const canonical = JSON.stringify([
    CHUNKING_VERSION,
    settings.model,
    settings.dims,
    settings.dtype,
    settings.passagePrefix,
    settings.split.by,
    settings.split.length,
    settings.split.overlap,
    settings.maxTokens,
    settings.split.withinPages,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** S3 quotes ETags in API answers ("abc…") but not in event notifications (abc…). */
export function sameEtag(a: string, b: string): boolean {
  const bare = (etag: string) => etag.replace(/^"|"$/g, '');
  return bare(a) === bare(b);
}
