// Decides which format a file is: its content first (magic numbers via file-type), the key's
// extension for what content cannot tell (text formats, and which of a container's formats: a
// ZIP may be a DOCX or an XLSX, an OLE compound file a .doc or a .msg).
import path from 'node:path';
import { FORMATS, formatOfExtension, PLAIN_TEXT, SUPPORTED_EXTENSIONS, type FormatSpec } from './registry.js';
import { ConversionError } from './types.js';

/** A text byte-order mark; UTF-16's FF FE would otherwise pass for an MPEG audio frame. */
function startsWithTextBom(bytes: Uint8Array): boolean {
  const [a, b, c] = bytes;
  return (a === 0xef && b === 0xbb && c === 0xbf) || (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff);
}

const supported = (): string => `supported: ${SUPPORTED_EXTENSIONS.join(' ')}`;

export async function detectFormat(bytes: Uint8Array, fileName: string): Promise<FormatSpec> {
  const extension = path.extname(fileName).toLowerCase();
  const named = formatOfExtension(extension);
  // Imported on first use, like the converters, to keep worker start-up short.
  const { fileTypeFromBuffer } = await import('file-type');
  const sniffed = startsWithTextBom(bytes) ? undefined : await fileTypeFromBuffer(bytes);

  if (sniffed !== undefined) {
    const textual = sniffed.mime.startsWith('text/') || sniffed.ext === 'xml';
    // Text that file-type recognises (XML, for one) is read as the format its name says, when it says one.
    if (textual && named?.text === true) return named;
    const signed = FORMATS.find((format) => format.signatures?.includes(sniffed.ext));
    if (signed !== undefined) return signed;
    if (named?.containers?.includes(sniffed.ext as never) === true) return named;
    if (!textual) {
      throw new ConversionError('unsupported_type', `content is ${sniffed.mime}${extension ? ` (named ${extension})` : ''}; ${supported()}`);
    }
  }

  if (named !== undefined) {
    if (named.text !== true) {
      throw new ConversionError('corrupt', `named ${extension} but the content has no ${named.name} signature`);
    }
    return named;
  }
  if (extension === '') {
    const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
    const recognised = FORMATS.find((format) => format.looksLike?.(head) === true);
    return recognised ?? PLAIN_TEXT;
  }
  throw new ConversionError('unsupported_type', `extension ${extension} is not supported; ${supported()}`);
}
