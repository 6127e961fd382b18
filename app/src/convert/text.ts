// Bytes → string for text formats, deciding the encoding as browsers and editors do:
//   1. a byte order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) wins;
//   2. then what the file declares: an HTML <meta charset> (or http-equiv Content-Type) or an XML
//      declaration's encoding, within the first 1,024 bytes (the WHATWG prescan's window);
//   3. UTF-16 or UTF-32 without a mark, from where the zero bytes fall (text in them has a zero
//      byte in a fixed place of most code units, which no 8-bit encoding has);
//   4. UTF-8, when the bytes are valid UTF-8;
//   5. HTML that declares nothing: windows-1252, as the WHATWG encoding standard has browsers do
//      (unless chardet clearly prefers another);
//   6. anything else: chardet's candidates, best first, each taken if it decodes to plausible text.
// Refused only when nothing yields text, naming the encodings tried.
import chardet from 'chardet';
import { ConversionError } from './types.js';

export interface DecodeHints {
  /** HTML: a <meta charset> is honoured, and undeclared legacy bytes are windows-1252. */
  readonly html?: boolean;
}

function decodeWith(encoding: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** UTF-32, which the WHATWG TextDecoder does not offer: four bytes a code point. */
function decodeUtf32(bytes: Uint8Array, littleEndian: boolean): string | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    const code = view.getUint32(i, littleEndian);
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return undefined;
    parts.push(String.fromCodePoint(code));
  }
  return parts.join('');
}

/**
 * Labels the WHATWG encoding standard maps to windows-1252 (ISO-8859-1 and ASCII among them:
 * browsers read both as windows-1252).
 */
const WINDOWS_1252_LABELS = new Set(['ansi_x3.4-1968', 'ascii', 'cp1252', 'cp819', 'csisolatin1', 'ibm819', 'iso-8859-1', 'iso-ir-100', 'iso8859-1', 'iso88591', 'iso_8859-1', 'iso_8859-1:1987', 'l1', 'latin1', 'us-ascii', 'windows-1252', 'x-cp1252']);

/** windows-1252's characters for the bytes 0x80–0x9f (the five it leaves undefined stay C1). */
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

/**
 * windows-1252 by hand: Node 20's TextDecoder decodes it as ISO-8859-1 (0x93 becomes U+0093, not
 * “), a bug Node 22 no longer has. The bytes below 0x80 and from 0xa0 are ISO-8859-1's.
 */
function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  // The C1 range is what 1252 defines differently.
  return latin1.replace(/[\u0080-\u009f]/g, (char) => WINDOWS_1252_HIGH[char.charCodeAt(0) - 0x80] ?? char);
}

/** Bytes in the encoding a label names (WHATWG labels, plus UTF-32); undefined when they are not valid in it. */
export function decodeLabel(label: string, bytes: Uint8Array): string | undefined {
  const name = label.toLowerCase();
  if (WINDOWS_1252_LABELS.has(name)) return decodeWindows1252(bytes);
  if (name === 'utf-32le' || name === 'utf-32') return decodeUtf32(bytes, true);
  if (name === 'utf-32be') return decodeUtf32(bytes, false);
  return decodeWith(name, bytes);
}

function byteOrderMark(bytes: Uint8Array): { readonly label: string; readonly length: number } | undefined {
  const [a, b, c, d] = bytes;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { label: 'utf-8', length: 3 };
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return { label: 'utf-32le', length: 4 };
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return { label: 'utf-32be', length: 4 };
  if (a === 0xff && b === 0xfe) return { label: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { label: 'utf-16be', length: 2 };
  return undefined;
}

/** The encoding an HTML meta tag or an XML declaration names in the first 1,024 bytes. */
function declaredEncoding(bytes: Uint8Array, html: boolean): string | undefined {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  const xml = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(head);
  if (xml?.[1] !== undefined) return xml[1];
  if (!html) return undefined;
  const meta = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
  return meta?.[1];
}

/**
 * UTF-16 or UTF-32 without a byte order mark: in a sample of whole code units, most units of
 * Latin-script text have zero bytes in the same places (UTF-16LE `x 0`, BE `0 x`; UTF-32LE
 * `x 0 0 0`), and 8-bit text has almost none.
 */
function unmarkedWideEncoding(bytes: Uint8Array): string | undefined {
  const sample = bytes.subarray(0, 8192 - (Math.min(bytes.length, 8192) % 4));
  if (sample.length < 8) return undefined;
  let [z0, z1, z2, z3] = [0, 0, 0, 0];
  for (let i = 0; i < sample.length; i += 4) {
    if (sample[i] === 0) z0++;
    if (sample[i + 1] === 0) z1++;
    if (sample[i + 2] === 0) z2++;
    if (sample[i + 3] === 0) z3++;
  }
  const units = sample.length / 4;
  const most = (count: number) => count > units * 0.6;
  const few = (count: number) => count < units * 0.1;
  if (most(z1) && most(z2) && most(z3) && few(z0)) return 'utf-32le';
  if (most(z0) && most(z1) && most(z2) && few(z3)) return 'utf-32be';
  if (most(z1) && most(z3) && few(z0) && few(z2)) return 'utf-16le';
  if (most(z0) && most(z2) && few(z1) && few(z3)) return 'utf-16be';
  return undefined;
}

function hasBinaryBytes(bytes: Uint8Array): boolean {
  // NUL never appears in text of a single-byte or UTF-8 encoding; other C0 controls are rare.
  const sample = bytes.subarray(0, 8192);
  let controls = 0;
  for (const byte of sample) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32)) controls++;
  }
  return controls > sample.length / 100;
}

/**
 * Text a legacy decoding could have made: no replacement characters and no C1 controls (what an
 * 8-bit code page gives for bytes it does not define); mostly letters, digits, marks, punctuation,
 * spaces and ASCII, with few other symbols or controls (a wrong code page turns text into box
 * drawing and signs).
 */
function plausible(text: string): boolean {
  if (text.length === 0 || text.includes('\ufffd')) return false;
  let odd = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x80 && code <= 0x9f) return false;
    if (!WORDLIKE.test(char)) odd++;
  }
  return odd <= text.length / 20;
}
const WORDLIKE = /[\p{L}\p{M}\p{N}\p{P}\p{Zs}\t\n\r\u0020-\u007e]/u;

/** How far (in chardet's confidence points) another guess must lead windows-1252 to beat it for undeclared HTML. */
const CLEAR_LEAD = 10;

export function decodeText(bytes: Uint8Array, hints: DecodeHints = {}): string {
  const tried: string[] = [];
  const attempt = (label: string, body: Uint8Array = bytes): string | undefined => {
    tried.push(label);
    return decodeLabel(label, body);
  };

  const mark = byteOrderMark(bytes);
  if (mark !== undefined) {
    const text = attempt(mark.label, bytes.subarray(mark.length));
    if (text !== undefined) return text;
    throw new ConversionError('encoding', `file starts with a ${mark.label.toUpperCase()} byte order mark but is not valid ${mark.label.toUpperCase()}`);
  }

  const wide = unmarkedWideEncoding(bytes);
  if (wide !== undefined) {
    const text = attempt(wide);
    if (text !== undefined && plausible(text)) return text;
  }

  const declared = declaredEncoding(bytes, hints.html === true);
  if (declared !== undefined) {
    const text = attempt(declared);
    if (text !== undefined) return text;
  }

  if (hasBinaryBytes(bytes)) {
    throw new ConversionError('unsupported_type', 'content is binary, not text');
  }
  const utf8 = attempt('utf-8');
  if (utf8 !== undefined) return utf8;

  const candidates = chardet.analyse(bytes);
  if (hints.html === true) {
    // WHATWG: an HTML document that declares no encoding and is not UTF-8 is windows-1252. Unless
    // chardet clearly prefers another (as a browser's own detector would): a Cyrillic page read as
    // 1252 would be accented Latin letters, plausible to the check below and found by no query.
    const best = candidates[0];
    const western = Math.max(0, ...candidates.filter((c) => WINDOWS_1252_LABELS.has(c.name.toLowerCase())).map((c) => c.confidence));
    if (best !== undefined && !WINDOWS_1252_LABELS.has(best.name.toLowerCase()) && best.confidence >= western + CLEAR_LEAD) {
      const text = attempt(best.name.toLowerCase());
      if (text !== undefined && plausible(text)) return text;
    }
    const text = attempt('windows-1252');
    if (text !== undefined && plausible(text)) return text;
  }

  for (const candidate of candidates) {
    if (tried.includes(candidate.name.toLowerCase())) continue;
    const text = attempt(candidate.name.toLowerCase());
    if (text !== undefined && plausible(text)) return text;
  }
  throw new ConversionError('encoding', `no encoding gives text from these bytes (tried ${[...new Set(tried)].join(', ')}); re-save the file as UTF-8`);
}
