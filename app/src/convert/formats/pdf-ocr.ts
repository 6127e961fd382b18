// OCR of a PDF's pages, for pdf.ts: a page without a text layer (a scan) is rendered by pdf.js on
// a @napi-rs/canvas canvas (Skia, prebuilt, no system libraries; pdf.js's own choice in Node) and
// read by the OCR engine. One page at a time: the canvas is released before the next page renders.
// Kept apart from pdf.ts's text extraction so that each changes on its own, and loaded by it only
// when a page needs OCR: a PDF with a text layer never loads the canvas or the engine.
import { createCanvas } from '@napi-rs/canvas';
import type { PDFDocumentProxy } from '../pdfjs.js';
import { OcrBudget } from '../ocr/budget.js';
import { ocrEngine, type OcrEngine } from '../ocr/engine.js';
import { greyOfCanvas, isBlank, releaseFreedPixels, workingSize } from '../ocr/raster.js';
import type { ConvertLimits, OcrPage, OcrStopped } from '../types.js';

/** A PDF page's size is in points, 72 to the inch. */
const POINTS_PER_INCH = 72;

export class PdfOcr {
  private readonly engine: OcrEngine;
  private readonly budget: OcrBudget;
  private needing = 0;
  /** The first page the text pass did not reach, when it stopped early (pdf.ts). */
  private unreadFrom: number | undefined;
  /** Time spent in OCR, which the text extraction's own budget does not count. */
  millis = 0;

  constructor(private readonly limits: ConvertLimits) {
    this.engine = ocrEngine(limits.ocrLanguages);
    this.budget = new OcrBudget(limits);
  }

  /** Whether OCR's budget has refused a page: it reads no more of this file. */
  get stopped(): boolean {
    return this.budget.hasStopped;
  }

  /** The text pass stopped before `pageNumber` (pdf.ts); said in result() and stoppedMessage(). */
  textStoppedBefore(pageNumber: number): void {
    this.unreadFrom = pageNumber;
  }

  /**
   * The text of a page that needs OCR (pdf.ts's wantsOcr), read by OCR; empty when it is blank or
   * the budget is spent. Every page that needs OCR comes here, read or not: they are counted.
   */
  async read(document: PDFDocumentProxy, pageNumber: number): Promise<string> {
    this.needing++;
    if (!this.budget.allows()) return '';
    this.budget.attempt();
    const started = Date.now();
    try {
      const page = await document.getPage(pageNumber);
      let grey;
      try {
        const natural = page.getViewport({ scale: this.limits.ocrDpi / POINTS_PER_INCH });
        // A page may declare any size (a 200-inch poster): the working size bounds the canvas.
        const size = workingSize(Math.ceil(natural.width), Math.ceil(natural.height));
        const viewport = page.getViewport({ scale: (this.limits.ocrDpi / POINTS_PER_INCH) * (size.width / Math.ceil(natural.width)) });
        const canvas = createCanvas(size.width, size.height);
        const context = canvas.getContext('2d');
        context.fillStyle = '#fff';
        context.fillRect(0, 0, size.width, size.height);
        // pdf.js types its canvas as the DOM's (unknown to this project's types); @napi-rs/canvas
        // implements what it calls.
        await page.render({ canvas, viewport }).promise;
        grey = greyOfCanvas(canvas);
      } finally {
        page.cleanup();
      }
      if (isBlank(grey)) return '';
      const reading = await this.engine.read(grey);
      const text = reading.text.trim();
      if (text.length > 0) this.budget.recorded({ page: pageNumber, confidence: reading.confidence });
      return text;
    } finally {
      // A blank page reaches no engine (whose replies turn the loop anyway): without this, its
      // pixels stay in native memory until the file ends (raster.ts).
      await releaseFreedPixels();
      this.millis += Date.now() - started;
    }
  }

  /** What OCR did, for Extracted. */
  result(): { ocrPages?: readonly OcrPage[]; ocrStopped?: OcrStopped } {
    const stopped = this.budget.stopped(this.needing, this.unreadFrom);
    return {
      ...(this.budget.pages.length === 0 ? {} : { ocrPages: this.budget.pages }),
      ...(stopped === undefined ? {} : { ocrStopped: stopped }),
    };
  }

  /** Says why a file gave no text, when OCR's budget is why. */
  stoppedMessage(): string | undefined {
    const stopped = this.budget.stopped(this.needing, this.unreadFrom);
    return stopped === undefined ? undefined : this.budget.describe(stopped);
  }
}
