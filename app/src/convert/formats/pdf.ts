// PDF → text with a page map, via pdfjs-dist (Mozilla's PDF engine, no native dependencies).
// pdfjs-dist 5.6.205 is pinned: later releases need Node ≥ 22.
import { createRequire } from 'node:module';
import path from 'node:path';
import { getDocument, type PDFDocumentProxy } from '../pdfjs.js';
import type { PdfOcr } from './pdf-ocr.js';
import type { ConvertContext } from '../registry.js';
import { ConversionError, type ConvertLimits, type Extracted, type PageStart } from '../types.js';
import { layoutPage, pagesToText, type PageLayout, type TextPiece } from './pdf-layout.js';

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
/**
 * Once OCR has stopped at its budget, the text pass ends at this share of CONVERT_MAX_SECONDS
 * rather than at a timeout, keeping what it read: the file is already indexed only as far as OCR
 * got. The rest of the time is the margin to the sandbox's deadline (CONVERT_MAX_SECONDS plus
 * OCR_MAX_SECONDS, counted from before pdf.js loads): laying out the pages read and sending them back.
 */
const TEXT_PASS_SHARE_AFTER_OCR_STOPPED = 0.75;

/** Whether a page with this text layer is read by OCR: never under OCR_MODE=off, always under force. */
function wantsOcr(limits: ConvertLimits, textLayer: string): boolean {
  return limits.ocrMode === 'force' || (limits.ocrMode === 'auto' && textLayer.trim().length === 0);
}

/** Pages read between two releases of what pdfjs cached while parsing them. */
const CLEANUP_EVERY_PAGES = 100;

/**
 * A page's text items with their positions (formats/pdf-layout.ts reads the layout from them).
 * The text matrix [a b c d e f] puts the baseline's left end at (e, f); its vertical scale is the
 * font size; a page whose b and c are not zero draws rotated text.
 */
async function pagePieces(document: PDFDocumentProxy, pageNumber: number): Promise<TextPiece[]> {
  const page = await document.getPage(pageNumber);
  try {
    const content = await page.getTextContent();
    const pieces: TextPiece[] = [];
    for (const item of content.items) {
      if (!('str' in item)) continue;
      const [a = 0, b = 0, c = 0, d = 0, x = 0, y = 0] = item.transform as number[];
      const size = Math.hypot(c, d) || item.height;
      if (![x, y, item.width, size].every(Number.isFinite)) continue;
      pieces.push({
        text: item.str,
        x,
        y,
        width: item.width,
        size,
        horizontal: a > 0 && d > 0 && Math.abs(b) <= 0.01 * a && Math.abs(c) <= 0.01 * d,
        endsLine: item.hasEOL,
      });
    }
    return pieces;
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
  const started = limits.startedAt ?? Date.now();
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
    // Loaded at the first page that needs OCR (pdf-ocr.ts loads the canvas and the engine).
    let ocr: PdfOcr | undefined;
    // Every page is laid out first: a running header is known as one only once all pages are
    // read, and hyphens are mended with what the whole document writes (pdf-layout.ts). Pages
    // read by OCR (no text layer, or OCR_MODE=force) keep OCR's text instead.
    const layouts: PageLayout[] = [];
    const ocrText = new Map<number, string>();
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber++) {
      // OCR has a budget of its own (pdf-ocr.ts): its time is not the text extraction's.
      const elapsed = Date.now() - started;
      const textMillis = elapsed - (ocr?.millis ?? 0);
      // OCR's time counted here at most at its budget: all the sandbox's deadline allows it.
      const afterOcrMillis = elapsed - Math.min(ocr?.millis ?? 0, limits.ocrMaxMillis);
      if (ocr?.stopped === true && afterOcrMillis > limits.maxMillis * TEXT_PASS_SHARE_AFTER_OCR_STOPPED) {
        // A long scan (10,000 pages) whose OCR stopped long ago: index what was read, and say so.
        ocr.textStoppedBefore(pageNumber);
        break;
      }
      if (textMillis > limits.maxMillis) {
        throw new ConversionError(
          'timeout',
          `PDF text extraction ran past its time budget (CONVERT_MAX_SECONDS=${Math.round(limits.maxMillis / 1000)}) at page ${pageNumber} of ${document.numPages}`,
        );
      }
      try {
        const pieces = await pagePieces(document, pageNumber);
        layouts.push(layoutPage(pieces));
        // Under OCR_MODE=force a text layer stays when OCR reads nothing (its budget spent).
        if (wantsOcr(limits, pieces.map((piece) => piece.text).join(''))) {
          ocr ??= new (await import('./pdf-ocr.js')).PdfOcr(limits);
          const read = await ocr.read(document, pageNumber);
          if (read !== '') ocrText.set(pageNumber, read);
        }
      } catch (error) {
        if (error instanceof ConversionError) throw error;
        throw new ConversionError('corrupt', `PDF page ${pageNumber} could not be read: ${String(error)}`, { cause: error });
      }
      // pdfjs keeps what it parsed of every page (fonts, resources, the page dictionaries) until
      // told to let go, so a long PDF's parse would grow with its page count; every
      // CLEANUP_EVERY_PAGES pages it is told to, and memory stays that of a few pages.
      if (pageNumber % CLEANUP_EVERY_PAGES === 0) await document.cleanup();
    }
    let text = '';
    const pages: PageStart[] = [];
    pagesToText(layouts).forEach((laidOut, index) => {
      const pageContent = ocrText.get(index + 1) ?? laidOut;
      if (pageContent.length === 0) return;
      if (text.length > 0) text += PAGE_SEPARATOR;
      pages.push({ page: index + 1, offset: text.length });
      text += pageContent;
    });
    if (text.trim().length === 0) {
      throw new ConversionError(
        'no_text',
        limits.ocrMode === 'off'
          ? `PDF has ${document.numPages} page(s) but no text layer (scanned? OCR is off: OCR_MODE=off)`
          : `PDF has ${document.numPages} page(s) and ${ocr === undefined ? 'no text' : 'OCR found no text'}${ocr?.stoppedMessage() === undefined ? '' : ` (${ocr.stoppedMessage()})`}`,
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
