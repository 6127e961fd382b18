// Documents inside a document (an e-mail's attachments), converted as files of their own by the
// registry, inside the same sandbox call as their parent: the parent's heap limit, deadline and
// character cap cover them too. What cannot be read is skipped with its reason, and the parent
// is indexed all the same: a mail is worth indexing without its unreadable attachment.
import path from 'node:path';
import { formatOfContentType } from './registry.js';
import type { ConvertContext } from './registry.js';
import { ConversionError, type ConvertedPart, type SkippedPart } from './types.js';

/**
 * Most attachments of one message that are read. A message with more is indexed with its first
 * MAX_PARTS and the rest listed as skipped ('too_many'): its body and first attachments are still
 * worth finding, and every conversion costs time within the file's one deadline.
 */
export const MAX_PARTS = 50;

/** Longest part name kept, in characters (the extension is kept when a name is cut). */
const MAX_NAME_CHARS = 200;

export interface RawPart {
  /** The name the file gave it, untrusted; absent for unnamed parts. */
  readonly name: string | undefined;
  /** Declared media type, lower case, to name an unnamed part's extension. */
  readonly contentType?: string;
  readonly bytes: () => Uint8Array;
  /** The name detection should see, when the content is not what the name says (an Outlook item attached as .eml). */
  readonly detectAs?: string;
}

export interface ConvertedParts {
  readonly parts: readonly ConvertedPart[];
  readonly skippedParts: readonly SkippedPart[];
}

// eslint-disable-next-line no-control-regex -- control characters are what this removes
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;

/**
 * A part's name made safe to follow '#' in a file_path: no control characters; '/' and '#'
 * replaced by look-alikes (U+2215, U+FF03), so everything after a chunk's last '#' is the part's
 * name and nobody mistakes it for a folder; bounded length.
 */
export function safePartName(raw: string | undefined, index: number, contentType?: string): string {
  let name = (raw ?? '').replace(CONTROLS, ' ').replace(/\//g, '\u2215').replace(/\\/g, '\u2215').replace(/#/g, '\uFF03').replace(/\s+/g, ' ').trim();
  if (name === '' || name === '.' || name === '..') {
    const extension = contentType === undefined ? '' : (formatOfContentType(contentType)?.extensions[0] ?? '');
    name = `attachment-${index + 1}${extension}`;
  }
  if (name.length > MAX_NAME_CHARS) {
    const extension = path.extname(name).slice(0, 16);
    name = name.slice(0, MAX_NAME_CHARS - extension.length) + extension;
  }
  return name;
}

/** `name` made unique among `taken` as a file manager would: "a.pdf", "a (2).pdf", … */
export function uniqueName(name: string, taken: Set<string>): string {
  let candidate = name;
  const extension = path.extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 2; taken.has(candidate); n++) candidate = `${stem} (${n})${extension}`;
  taken.add(candidate);
  return candidate;
}

/**
 * Converts a file's parts with the registry (context.convertPart). Without convertPart (this file
 * is itself a part) none is expanded and nothing is listed. `parentChars` is the parent's text
 * length, which the parts' text counts with against CONVERT_MAX_CHARS.
 */
export async function convertParts(raw: readonly RawPart[], context: ConvertContext, parentChars: number): Promise<ConvertedParts> {
  const { convertPart } = context;
  if (convertPart === undefined || raw.length === 0) return { parts: [], skippedParts: [] };
  const parts: ConvertedPart[] = [];
  const skippedParts: SkippedPart[] = [];
  const taken = new Set<string>();
  let chars = parentChars;
  for (const [index, part] of raw.entries()) {
    if (index === MAX_PARTS) {
      skippedParts.push({ name: `${raw.length - MAX_PARTS} more`, reason: 'too_many', message: `${raw.length} attachments; the first ${MAX_PARTS} are read` });
      break;
    }
    const name = uniqueName(safePartName(part.name, index, part.contentType), taken);
    try {
      const converted = await convertPart(part.bytes(), part.detectAs ?? name);
      const maxChars = context.limits.maxChars;
      if (maxChars !== undefined && chars + converted.text.length > maxChars) {
        skippedParts.push({ name, reason: 'too_large', message: `its ${converted.text.length} characters would take the file past CONVERT_MAX_CHARS=${maxChars}` });
        continue;
      }
      chars += converted.text.length;
      parts.push({ name, converted });
    } catch (error) {
      // As the sandbox does for a file: anything a converter throws comes from the part's bytes.
      if (error instanceof ConversionError) skippedParts.push({ name, reason: error.reason, message: error.message });
      else skippedParts.push({ name, reason: 'corrupt', message: `the converter failed on it: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}` });
    }
  }
  return { parts, skippedParts };
}
