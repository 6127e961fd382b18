// The convert stage: bytes and a file name in, text (with a page map for PDFs) out, or a
// ConversionError whose reason the source stage records when it dead-letters the message.
import { detectType } from './detect.js';
import { docxToText } from './docx.js';
import { htmlToText, markdownToText } from './html.js';
import { pdfToText } from './pdf.js';
import { decodeText } from './text.js';
import { CONTENT_TYPES, ConversionError, type Converted, type ConvertLimits } from './types.js';

export { ConversionError, DEFAULT_CONVERT_LIMITS } from './types.js';
export type { ConversionFailure, Converted, ConvertLimits, DocumentType, PageStart } from './types.js';
export { SUPPORTED_EXTENSIONS } from './detect.js';

export async function convert(bytes: Uint8Array, fileName: string, limits: ConvertLimits): Promise<Converted> {
  if (bytes.length === 0) throw new ConversionError('no_text', 'file is empty');
  const type = await detectType(bytes, fileName);
  const contentType = CONTENT_TYPES[type];
  let converted: Converted;
  switch (type) {
    case 'pdf':
      converted = { ...(await pdfToText(bytes, limits)), type, contentType };
      break;
    case 'docx':
      converted = { text: await docxToText(bytes, limits), type, contentType };
      break;
    case 'html':
      converted = { text: htmlToText(decodeText(bytes)), type, contentType };
      break;
    case 'markdown':
      converted = { text: markdownToText(decodeText(bytes)), type, contentType };
      break;
    case 'text':
      converted = { text: decodeText(bytes), type, contentType };
      break;
  }
  if (converted.text.trim().length === 0) {
    throw new ConversionError('no_text', `no text could be extracted from this ${type} file`);
  }
  return converted;
}
