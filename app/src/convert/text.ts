// Bytes → string for text formats. UTF-8 (and BOM-marked UTF-16) is taken as is; anything else is
// identified by chardet and decoded only when it is confident, because a wrong guess would index
// mojibake that no query ever finds.
import chardet from 'chardet';
import { ConversionError } from './types.js';

const MIN_CONFIDENCE = 60;

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

function decodeWith(encoding: string, bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const text = decodeWith('utf-8', bytes.subarray(3));
    if (text !== undefined) return text;
    throw new ConversionError('encoding', 'file starts with a UTF-8 byte order mark but is not valid UTF-8');
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    const text = decodeWith(bytes[0] === 0xff ? 'utf-16le' : 'utf-16be', bytes.subarray(2));
    if (text !== undefined) return text;
    throw new ConversionError('encoding', 'file starts with a UTF-16 byte order mark but is not valid UTF-16');
  }
  if (hasBinaryBytes(bytes)) {
    throw new ConversionError('unsupported_type', 'content is binary, not text');
  }
  const utf8 = decodeWith('utf-8', bytes);
  if (utf8 !== undefined) return utf8;

  const candidates = chardet.analyse(bytes);
  for (const candidate of candidates) {
    if (candidate.confidence < MIN_CONFIDENCE) break;
    const text = decodeWith(candidate.name.toLowerCase(), bytes);
    if (text !== undefined) return text;
  }
  const best = candidates[0];
  throw new ConversionError(
    'encoding',
    `not valid UTF-8 and the encoding could not be identified with confidence` +
      (best ? ` (best guess ${best.name} at ${best.confidence}%)` : '') +
      '; re-save the file as UTF-8',
  );
}
