// Types shared by the converters. The split stage imports PageStart from here, never the reverse.
import { PermanentError } from '../failure.js';

/** Where page `page` (1-based) starts in the converted text, as a character offset. */
export interface PageStart {
  readonly page: number;
  readonly offset: number;
}

export type DocumentType = 'text' | 'markdown' | 'html' | 'pdf' | 'docx';

export const CONTENT_TYPES: Readonly<Record<DocumentType, string>> = {
  text: 'text/plain',
  markdown: 'text/markdown',
  html: 'text/html',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

export interface Converted {
  readonly text: string;
  /** Sorted by offset; present for paged formats (PDF). */
  readonly pages?: readonly PageStart[];
  readonly type: DocumentType;
  readonly contentType: string;
}

export interface ConvertLimits {
  /** Most pages a PDF may have; a longer one is refused rather than indexed in part. */
  readonly maxPages: number;
  /** Extraction time budget per file: checked between pages, and enforced by the sandbox's deadline. */
  readonly maxMillis: number;
  /** Most bytes a DOCX may inflate to (sum of its entries' declared sizes). */
  readonly maxInflatedBytes: number;
}

export const DEFAULT_CONVERT_LIMITS: ConvertLimits = {
  maxPages: 2000,
  maxMillis: 120_000,
  maxInflatedBytes: 256 * 1024 * 1024,
};

/** Why a file cannot be converted. All are permanent: retrying the same bytes cannot help. */
export type ConversionFailure =
  | 'unsupported_type'
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
