// PDF → text with a page map, via pdfjs-dist (Mozilla's PDF engine, no native dependencies).
// pdfjs-dist 5.6.205 is pinned: later releases need Node ≥ 22.
import { createRequire } from 'node:module';
import path from 'node:path';
import { getDocument, type PDFDocumentProxy } from '../pdfjs.js';
import { PdfOcr } from './pdf-ocr.js';
import type { ConvertContext } from '../registry.js';
import { ConversionError, type ConvertLimits, type Extracted, type PageStart } from '../types.js';

const pdfjsRoot = path.dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
// pdfjs reads these from disk in Node; the trailing separator is required.
const standardFontDataUrl = path.join(pdfjsRoot, 'standard_fonts') + path.sep;
// Decoders of JPEG 2000 and JBIG2 images (scans use them), loaded when a page is rendered for OCR.
const wasmUrl = path.join(pdfjsRoot, 'wasm') + path.sep;

export interface PdfText extends Pick<Extracted, 'ocrPages' | 'ocrStopped'> {
  readonly text: string;
  readonly pages: readonly PageStart[];
}

const PAGE_SEPARATOR = '\n\n';
/** Pages read between two releases of what pdfjs cached while parsing them. */
const CLEANUP_EVERY_PAGES = 100;

async function pageText(document: PDFDocumentProxy, pageNumber: number): Promise<string> {
  const page = await document.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    let text = '';
    for (const item of content.items) {
      if (!('str' in item)) continue;
      text += item.str;
      if (item.hasEOL) text += '\n';
    }
    return text.replace(/[ \t]+\n/g, '\n').trim();
  } finally {
    page.cleanup();
  }
}

function translateLoadError(error: unknown): ConversionError {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') {
    return new ConversionError('encrypted', 'PDF is password-protected', { cause: error });
  }
  return new ConversionError('corrupt', `PDF could not be parsed: ${message}`, { cause: error });
}

export async function pdfToText(bytes: Uint8Array, limits: ConvertLimits): Promise<PdfText> {
  const started = Date.now();
  const loadingTask = getDocument({
    // pdfjs takes ownership of (and may detach) the buffer it is given, so it gets a copy.
    data: new Uint8Array(bytes),
    standardFontDataUrl,
    wasmUrl,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  });
  let document: PDFDocumentProxy;
  try {
    document = await loadingTask.promise;
  } catch (error) {
    await loadingTask.destroy();
    throw translateLoadError(error);
  }

  try {
    if (document.numPages > limits.maxPages) {
      throw new ConversionError('too_many_pages', `PDF has ${document.numPages} pages; the limit is ${limits.maxPages}`);
    }
    let text = '';
    const pages: PageStart[] = [];
    const ocr = PdfOcr.of(limits);
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
      // OCR has a budget of its own (pdf-ocr.ts): its time is not the text extraction's.
      if (Date.now() - started - (ocr?.millis ?? 0) > limits.maxMillis) {
        throw new ConversionError(
          'timeout',
          `PDF text extraction exceeded ${limits.maxMillis} ms at page ${pageNumber} of ${document.numPages}`,
        );
      }
      let pageContent: string;
      try {
        pageContent = await pageText(document, pageNumber);
        // Under OCR_MODE=force a text layer stays when OCR reads nothing (its budget spent).
        if (ocr?.wants(pageContent) === true) pageContent = (await ocr.read(document, pageNumber)) || pageContent;
      } catch (error) {
        if (error instanceof ConversionError) throw error;
        throw new ConversionError('corrupt', `PDF page ${pageNumber} could not be read: ${String(error)}`, { cause: error });
      }
      // pdfjs keeps what it parsed of every page (fonts, resources, the page dictionaries) until
      // told to let go, so a long PDF's parse would grow with its page count; every
      // CLEANUP_EVERY_PAGES pages it is told to, and memory stays that of a few pages.
      if (pageNumber % CLEANUP_EVERY_PAGES === 0) await document.cleanup();
      if (pageContent.length === 0) continue;
      if (text.length > 0) text += PAGE_SEPARATOR;
      pages.push({ page: pageNumber, offset: text.length });
      text += pageContent;
    }
    if (text.trim().length === 0) {
      throw new ConversionError(
        'no_text',
        ocr === undefined
          ? `PDF has ${document.numPages} page(s) but no text layer (scanned? OCR is off: OCR_MODE=off)`
          : `PDF has ${document.numPages} page(s) and OCR found no text${ocr.stoppedMessage() === undefined ? '' : ` (${ocr.stoppedMessage()})`}`,
      );
    }
    return { text, pages, ...ocr?.result() };
  } finally {
    await loadingTask.destroy();
  }
}

export function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  return pdfToText(bytes, limits);
}
