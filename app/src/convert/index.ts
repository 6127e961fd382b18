// The convert stage: bytes and a file name in, text (with a page map for PDFs) out, or a
// ConversionError whose reason the source stage records when it dead-letters the message.
//
// Each converter is imported on first use: pdfjs, mammoth and html-to-text together take about
// 0.3 s to load, which a worker would otherwise pay before it can report ready.
import { withoutControls } from './controls.js';
import { detectType } from './detect.js';
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
    case 'pdf': {
      const { pdfToText } = await import('./pdf.js');
      converted = { ...(await pdfToText(bytes, limits)), type, contentType };
      break;
    }
    case 'docx': {
      const { docxToText } = await import('./docx.js');
      converted = { text: await docxToText(bytes, limits), type, contentType };
      break;
    }
    case 'html': {
      const { htmlToText } = await import('./html.js');
      converted = { text: htmlToText(decodeText(bytes, { html: true })), type, contentType };
      break;
    }
    case 'markdown': {
      const { markdownToText } = await import('./html.js');
      converted = { text: markdownToText(decodeText(bytes)), type, contentType };
      break;
    }
    case 'text':
      converted = { text: decodeText(bytes), type, contentType };
      break;
  }
  converted = withoutControls(converted);
  if (converted.text.trim().length === 0) {
    throw new ConversionError('no_text', `no text could be extracted from this ${type} file`);
  }
  return converted;
}
