// Legacy Word (.doc, an OLE compound file) → text via word-extractor: the one pure-JavaScript
// reader of the Word 97–2003 binary format (MIT, no native code, a few hundred KB with its
// dependencies). Its last release is from 2021, but the format has not changed since 2003 and the
// reader runs, like every converter, in the conversion sandbox (heap cap and deadline).
// Kept: the body, then headers and footers once, footnotes, endnotes and text boxes.
import WordExtractor from 'word-extractor';
import { ConversionError, type Extracted } from '../types.js';

/** An OLE compound file's signature. word-extractor would read a ZIP too, with its own unbounded inflater. */
const OLE_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export async function convert(bytes: Uint8Array): Promise<Extracted> {
  if (!OLE_SIGNATURE.every((byte, index) => bytes[index] === byte)) {
    throw new ConversionError('corrupt', 'DOC is not an OLE compound file');
  }
  let document: WordExtractor.Document;
  try {
    document = await new WordExtractor().extract(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new ConversionError('corrupt', `DOC could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parts = [document.getBody(), document.getHeaders(), document.getFootnotes(), document.getEndnotes(), document.getTextboxes()];
  const text = parts
    .map((part) => part.replace(/\r\n?/g, '\n').trim())
    .filter((part) => part.length > 0)
    .join('\n\n');
  return { text };
}
