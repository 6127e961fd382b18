// Types shared by the converters. The split stage imports PageStart from here, never the reverse.
import { PermanentError } from '../failure.js';

/** Where page `page` (1-based) starts in the converted text, as a character offset. */
export interface PageStart {
  readonly page: number;
  readonly offset: number;
}

/**
 * A table in the converted text: its rows are the lines of [start, end), one row per line with
 * its cells in order; the first line is the header row. The split stage never cuts inside a row
 * and repeats the header at the top of every chunk that holds rows of the table.
 */
export interface TableSpan {
  readonly start: number;
  /** Where the header row (the first line) ends, before its newline. */
  readonly headerEnd: number;
  readonly end: number;
}

/** A named part of a document (a spreadsheet's sheet, an e-mail's body): chunks record the one they start in. */
export interface SectionStart {
  readonly name: string;
  readonly offset: number;
}

/** A page whose text came from OCR, with the engine's mean confidence (0 to 1). */
export interface OcrPage {
  readonly page: number;
  readonly confidence: number;
}

/** OCR stopped by its page cap or time budget: the file is indexed as far as OCR got. */
export interface OcrStopped {
  readonly limit: 'pages' | 'seconds';
  /** Pages OCR went through (blank ones included). */
  readonly pagesRead: number;
  /** Pages of the file that needed OCR (of those the text pass reached). */
  readonly pagesNeedingOcr: number;
  /**
   * Set when a PDF's text pass then ran out of CONVERT_MAX_SECONDS: the first page it did not
   * reach. Pages before it are indexed; it and those after are not read at all.
   */
  readonly unreadFrom?: number;
}

/** What a format's converter gives: text, and the structure that the split stage keeps. */
export interface Extracted {
  readonly text: string;
  /** Sorted by offset; present for paged formats (PDF pages, slides). */
  readonly pages?: readonly PageStart[];
  /** Sorted by start, not overlapping. */
  readonly tables?: readonly TableSpan[];
  /** Sorted by offset. */
  readonly sections?: readonly SectionStart[];
  /** Pages read by OCR, sorted by page; the others (if any) came from a text layer. */
  readonly ocrPages?: readonly OcrPage[];
  /** Present when OCR's budget stopped it before the end of the file. */
  readonly ocrStopped?: OcrStopped;
  /**
   * Documents inside this one that are indexed as documents of their own (an e-mail's
   * attachments), each converted by the registry. The pipeline writes their chunks under the
   * file's claim, so they are replaced and removed with it.
   */
  readonly parts?: readonly ConvertedPart[];
  /** Parts that were not read, with why: the file's log line lists them. */
  readonly skippedParts?: readonly SkippedPart[];
}

/** A document inside a file: its name is unique in the file, and holds no '#', '/' or controls. */
export interface ConvertedPart {
  readonly name: string;
  readonly converted: Converted;
}

export interface SkippedPart {
  readonly name: string;
  /** A ConversionFailure, or 'too_many' past the parts a file may have. */
  readonly reason: string;
  readonly message: string;
}

export interface Converted extends Extracted {
  /** The registry's name of the format (convert/registry.ts). */
  readonly type: string;
  readonly contentType: string;
}

export interface ConvertLimits {
  /** Most pages a PDF (or slides a presentation) may have; a longer one is refused rather than indexed in part. */
  readonly maxPages: number;
  /** Extraction time budget per file: checked between pages, and enforced by the sandbox's deadline. */
  readonly maxMillis: number;
  /** Most bytes a ZIP-based file (DOCX, XLSX, PPTX…) may inflate to, counted as it inflates. */
  readonly maxInflatedBytes: number;
  /**
   * Most an entry of a ZIP-based file may inflate to per compressed byte (entries over 1 MiB).
   * Office XML compresses about 5–30 times; a bomb of repeated runs, hundreds of times.
   */
  readonly maxInflateRatio: number;
  /** auto: OCR pages without a text layer, and images; off: never (images are refused); force: every page. */
  readonly ocrMode: OcrMode;
  /** Tesseract language codes OCR reads (convert/ocr/language-data.ts pins their data). */
  readonly ocrLanguages: readonly string[];
  /** Most pages OCR reads per file; the rest of a file is left out and the file says so. */
  readonly ocrMaxPages: number;
  /** OCR time budget per file, on top of maxMillis (the sandbox's deadline adds it). */
  readonly ocrMaxMillis: number;
  /** Resolution PDF pages are rendered at for OCR. */
  readonly ocrDpi: number;
  /**
   * When the file's conversion clock started (Date.now()). The sandbox sets it as a request
   * arrives, so that a converter's own budget counts what the sandbox's deadline counts, the
   * converter's module loads included. Absent: when the converter starts.
   */
  readonly startedAt?: number;
  /**
   * Most characters of text one file may give, its parts included. The sandbox enforces it;
   * converters of files with parts skip a part that would pass it.
   */
  readonly maxChars?: number;
}

export type OcrMode = 'auto' | 'off' | 'force';

export const DEFAULT_CONVERT_LIMITS: ConvertLimits = {
  maxPages: 2000,
  maxMillis: 120_000,
  maxInflatedBytes: 256 * 1024 * 1024,
  maxInflateRatio: 200,
  ocrMode: 'auto',
  ocrLanguages: ['eng'],
  ocrMaxPages: 200,
  ocrMaxMillis: 300_000,
  ocrDpi: 200,
};

/** Why a file cannot be converted. All are permanent: retrying the same bytes cannot help. */
export type ConversionFailure =
  | 'unsupported_type'
  | 'legacy_format'
  | 'corrupt'
  | 'encrypted'
  | 'encoding'
  | 'no_text'
  | 'too_many_pages'
  | 'too_large'
  | 'timeout';

export class ConversionError extends PermanentError {
  override name = 'ConversionError';
  declare readonly reason: ConversionFailure;
  // Not useless: it narrows `reason` to the converter's own failure names.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(reason: ConversionFailure, message: string, options?: ErrorOptions) {
    super(reason, message, options);
  }
}
