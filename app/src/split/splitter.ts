// The split stage: text in, chunks small enough for the embedding model out.
//
// Units (words, sentences or passages) are packed into chunks of `length` units with `overlap`
// units repeated between neighbours, as Haystack's DocumentSplitter does, so chunk metadata means
// the same to users of both. A token guard then measures every chunk with the model's own
// tokenizer and cuts any that would exceed the model's maximum sequence length: the model would
// otherwise truncate it silently and the text past the limit would never be searchable. It also
// caps a chunk's characters (CHARS_PER_TOKEN per token of the limit): a WordPiece tokenizer turns
// any word of more than 100 characters into one [UNK] token, so a base64 blob or a minified line
// of megabytes would otherwise pass as a chunk of a few tokens and land whole in the index.

import type { PageStart } from '../convert/types.js';

export type SplitBy = 'word' | 'sentence' | 'passage';

export interface SplitInput {
  readonly text: string;
  /** Sorted by offset; absent for formats without pages. */
  readonly pages?: readonly PageStart[];
}

export interface Chunk {
  readonly content: string;
  /** Position of the chunk in its file, from 0. */
  readonly splitId: number;
  /** Character offset of the chunk's first character in the converted text. */
  readonly splitIdxStart: number;
  /** Tokens the model will see for this chunk (special tokens included), measured once here. */
  readonly tokens: number;
  /** First page the chunk covers (paged formats). */
  readonly pageNumber?: number;
  /** Last page the chunk covers: equal to pageNumber unless the chunk runs across pages. */
  readonly pageEnd?: number;
}

export interface SplitOptions {
  readonly by: SplitBy;
  /** Units per chunk. */
  readonly length: number;
  /** Units shared by neighbouring chunks; less than `length`. */
  readonly overlap: number;
  /** Most tokens a chunk may have, special tokens included (the model's max sequence length). */
  readonly maxTokens: number;
  /** Token count of a text as the model sees it, special tokens included. */
  readonly countTokens: (text: string) => number;
  /**
   * Paged formats: split each page on its own, so no chunk runs across a page boundary and a
   * chunk's page is the page of every fact in it. Off: units are packed across pages.
   */
  readonly withinPages?: boolean;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

interface MeasuredSpan extends Span {
  readonly tokens: number;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
// ICU's sentence rules end a sentence after any period followed by a capital; Node's Intl has no
// way to switch on ICU's abbreviation suppressions, so the common English ones are merged here.
const ABBREVIATION_END = /(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|No|Fig|Inc|Ltd|Co)\.\s*$/;

/** Units as spans that tile the text, each keeping its trailing whitespace. */
function unitSpans(text: string, by: SplitBy): Span[] {
  const spans: Span[] = [];
  if (by === 'sentence') {
    let start = 0;
    for (const segment of sentenceSegmenter.segment(text)) {
      const end = segment.index + segment.segment.length;
      if (end < text.length && ABBREVIATION_END.test(segment.segment)) continue;
      spans.push({ start, end });
      start = end;
    }
    return spans;
  }
  const pattern = by === 'word' ? /\S+\s*/g : /[\s\S]+?(?:\n[^\S\n]*\n\s*|$)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[0].length === 0) break;
    spans.push({ start: match.index, end: match.index + match[0].length });
  }
  return spans;
}

function packUnits(units: readonly Span[], length: number, overlap: number): Span[] {
  const windows: Span[] = [];
  const step = length - overlap;
  for (let first = 0; first < units.length; first += step) {
    const last = Math.min(first + length, units.length) - 1;
    const start = units[first];
    const end = units[last];
    if (start === undefined || end === undefined) break;
    windows.push({ start: start.start, end: end.end });
    if (last === units.length - 1) break;
  }
  return windows;
}

/**
 * Characters a chunk may hold per token of the limit: 256 tokens allow 8192 characters, several
 * times what real text needs (English averages 4–5 per token, CJK about 1).
 */
export const CHARS_PER_TOKEN = 32;

/** Halves a span (at a word boundary when it has several words) until every piece fits. */
function fitToTokens(text: string, span: Span, options: SplitOptions): MeasuredSpan[] {
  // Too long to be a chunk whatever it counts: cut before tokenizing megabytes.
  const tooLong = span.end - span.start > options.maxTokens * CHARS_PER_TOKEN;
  const tokens = tooLong ? Number.POSITIVE_INFINITY : options.countTokens(text.slice(span.start, span.end));
  if (tokens <= options.maxTokens) return [{ ...span, tokens }];
  const words = unitSpans(text.slice(span.start, span.end), 'word');
  let cut: number;
  if (words.length > 1) {
    const middle = words[Math.floor(words.length / 2)];
    cut = span.start + (middle?.start ?? 0);
  } else {
    // One unbroken run of characters longer than the limit: cut it, avoiding split surrogates.
    cut = span.start + Math.floor((span.end - span.start) / 2);
    if (/[\uDC00-\uDFFF]/.test(text.charAt(cut))) cut += 1;
  }
  if (cut <= span.start || cut >= span.end) return [{ ...span, tokens: options.countTokens(text.slice(span.start, span.end)) }];
  return [
    ...fitToTokens(text, { start: span.start, end: cut }, options),
    ...fitToTokens(text, { start: cut, end: span.end }, options),
  ];
}

function pageAt(pages: readonly PageStart[], offset: number): number | undefined {
  let low = 0;
  let high = pages.length - 1;
  let found: number | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const page = pages[mid];
    if (page === undefined) break;
    if (page.offset <= offset) {
      found = page.page;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found;
}

export function validateSplitOptions(options: SplitOptions): void {
  if (!Number.isInteger(options.length) || options.length < 1) {
    throw new RangeError(`split length must be a positive integer, got ${options.length}`);
  }
  if (!Number.isInteger(options.overlap) || options.overlap < 0 || options.overlap >= options.length) {
    throw new RangeError(`split overlap must be an integer in [0, length), got ${options.overlap}`);
  }
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 8) {
    throw new RangeError(`max tokens must be an integer ≥ 8, got ${options.maxTokens}`);
  }
}

/** The parts of the text to split on their own: each page, or the whole text. */
function regions(input: SplitInput, withinPages: boolean): Span[] {
  const { text, pages } = input;
  if (!withinPages || pages === undefined || pages.length === 0) return [{ start: 0, end: text.length }];
  return pages.map((page, i) => ({ start: page.offset, end: pages[i + 1]?.offset ?? text.length }));
}

export function splitText(input: SplitInput, options: SplitOptions): Chunk[] {
  validateSplitOptions(options);
  const { text } = input;
  const chunks: Chunk[] = [];
  for (const region of regions(input, options.withinPages === true)) {
    const units = unitSpans(text.slice(region.start, region.end), options.by).map((unit) => ({
      start: unit.start + region.start,
      end: unit.end + region.start,
    }));
    for (const window of packUnits(units, options.length, options.overlap)) {
      for (const span of fitToTokens(text, window, options)) {
        const content = text.slice(span.start, span.end);
        const visible = content.trimEnd().length;
        if (content.trim().length === 0) continue;
        // The last page is that of the last visible character: trailing whitespace may be the
        // separator before the next page.
        const pageNumber = input.pages === undefined ? undefined : pageAt(input.pages, span.start);
        const pageEnd = input.pages === undefined ? undefined : pageAt(input.pages, span.start + visible - 1);
        chunks.push({
          content,
          splitId: chunks.length,
          splitIdxStart: span.start,
          tokens: span.tokens,
          ...(pageNumber === undefined ? {} : { pageNumber }),
          ...(pageEnd === undefined ? {} : { pageEnd }),
        });
      }
    }
  }
  return chunks;
}
