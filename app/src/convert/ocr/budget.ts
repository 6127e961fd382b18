// How far OCR may go in one file: a page cap and a time budget (OCR_MAX_PAGES, OCR_MAX_SECONDS).
// A file over either is indexed as far as OCR got, and says so (Extracted.ocrStopped).
import type { ConvertLimits, OcrPage, OcrStopped } from '../types.js';

/** Told when a file's OCR starts (its first page): the sandbox then extends its deadline by OCR's budget. */
let ocrStartListener: (() => void) | undefined;

export function onOcrStart(listener: (() => void) | undefined): void {
  ocrStartListener = listener;
}

export class OcrBudget {
  private readonly started = Date.now();
  private readonly read: OcrPage[] = [];
  private attempted = 0;
  private stoppedBy: OcrStopped['limit'] | undefined;

  constructor(private readonly limits: Pick<ConvertLimits, 'ocrMaxPages' | 'ocrMaxMillis'>) {}

  /** Whether another page may be read; once false, stays false. */
  allows(): boolean {
    if (this.stoppedBy !== undefined) return false;
    if (this.attempted >= this.limits.ocrMaxPages) this.stoppedBy = 'pages';
    else if (Date.now() - this.started >= this.limits.ocrMaxMillis) this.stoppedBy = 'seconds';
    return this.stoppedBy === undefined;
  }

  /** Whether a limit has refused a page: OCR reads no more pages of this file. */
  get hasStopped(): boolean {
    return this.stoppedBy !== undefined;
  }

  /** A page went through OCR (blank or not: it counts against the cap). */
  attempt(): void {
    if (this.attempted === 0) ocrStartListener?.();
    this.attempted++;
  }

  /** A page OCR gave text for. */
  recorded(page: OcrPage): void {
    this.read.push(page);
  }

  get pages(): readonly OcrPage[] {
    return this.read;
  }

  /**
   * Where OCR stopped, when a limit stopped it before the file's last page needing it;
   * `unreadFrom`: the first page the file's text pass did not reach (pdf.ts), if it stopped early.
   */
  stopped(pagesNeedingOcr: number, unreadFrom?: number): OcrStopped | undefined {
    if (this.stoppedBy === undefined) return undefined;
    return { limit: this.stoppedBy, pagesRead: this.attempted, pagesNeedingOcr, ...(unreadFrom === undefined ? {} : { unreadFrom }) };
  }

  describe(stopped: OcrStopped): string {
    const of = `${stopped.pagesRead} of ${stopped.unreadFrom === undefined ? '' : 'at least '}${stopped.pagesNeedingOcr} pages`;
    const unread = stopped.unreadFrom === undefined ? '' : `; pages from ${stopped.unreadFrom} on were not read (CONVERT_MAX_SECONDS)`;
    return stopped.limit === 'pages'
      ? `OCR stopped at its page cap (OCR_MAX_PAGES=${this.limits.ocrMaxPages}) after ${of}${unread}`
      : `OCR stopped at its time budget (OCR_MAX_SECONDS=${Math.round(this.limits.ocrMaxMillis / 1000)}) after ${of}${unread}`;
  }
}
