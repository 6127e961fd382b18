// Decides how to read a file: content first (magic numbers via file-type), the key's extension
// only for formats that have no signature (plain text, Markdown, HTML).
import path from 'node:path';
import { ConversionError, type DocumentType } from './types.js';

const TEXT_EXTENSIONS: Readonly<Record<string, DocumentType>> = {
  '.txt': 'text',
  '.text': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
};
const SIGNED_EXTENSIONS: Readonly<Record<string, DocumentType>> = { '.pdf': 'pdf', '.docx': 'docx' };
export const SUPPORTED_EXTENSIONS = [...Object.keys(TEXT_EXTENSIONS), ...Object.keys(SIGNED_EXTENSIONS)];

const HTML_START = /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html[\s>])/i;

/** A text byte-order mark; UTF-16's FF FE would otherwise pass for an MPEG audio frame. */
function startsWithTextBom(bytes: Uint8Array): boolean {
  const [a, b, c] = bytes;
  return (a === 0xef && b === 0xbb && c === 0xbf) || (a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff);
}

export async function detectType(bytes: Uint8Array, fileName: string): Promise<DocumentType> {
  const extension = path.extname(fileName).toLowerCase();
  // Imported on first use, like the converters, to keep worker start-up short.
  const { fileTypeFromBuffer } = await import('file-type');
  const sniffed = startsWithTextBom(bytes) ? undefined : await fileTypeFromBuffer(bytes);

  if (sniffed?.ext === 'pdf') return 'pdf';
  if (sniffed?.ext === 'docx') return 'docx';
  // A damaged DOCX still starts like a ZIP; let the DOCX reader say what is wrong with it.
  if (sniffed?.ext === 'zip' && extension === '.docx') return 'docx';
  if (sniffed !== undefined && !sniffed.mime.startsWith('text/') && sniffed.ext !== 'xml') {
    throw new ConversionError(
      'unsupported_type',
      `content is ${sniffed.mime}${extension ? ` (named ${extension})` : ''}; supported: ${SUPPORTED_EXTENSIONS.join(' ')}`,
    );
  }

  const signed = SIGNED_EXTENSIONS[extension];
  if (signed !== undefined) {
    throw new ConversionError('corrupt', `named ${extension} but the content has no ${signed.toUpperCase()} signature`);
  }
  const named = TEXT_EXTENSIONS[extension];
  if (named !== undefined) return named;
  if (extension === '') {
    const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
    return HTML_START.test(head) ? 'html' : 'text';
  }
  throw new ConversionError(
    'unsupported_type',
    `extension ${extension} is not supported; supported: ${SUPPORTED_EXTENSIONS.join(' ')}`,
  );
}
