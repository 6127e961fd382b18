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
//
// Tables (TableSpan: one row per line, the first line the header) are split by rows: each row is
// one unit, so no window and no token cut falls inside a row, and a chunk that starts among a
// table's rows begins with a copy of the table's header row. A row weighs what its words would
// (by=word), one sentence (by=sentence), or its share of the table (by=passage: a whole table is
// one passage, as its blank-line-separated block was before).

import type { PageStart, SectionStart, TableSpan } from '../convert/types.js';

export type SplitBy = 'word' | 'sentence' | 'passage';

export interface SplitInput {
  readonly text: string;
  /** Sorted by offset; absent for formats without pages. */
  readonly pages?: readonly PageStart[];
  /** Sorted by start, not overlapping; absent for text without tables. */
  readonly tables?: readonly TableSpan[];
  /** Sorted by offset; absent for formats without named parts. */
  readonly sections?: readonly SectionStart[];
}

export interface Chunk {
  readonly content: string;
  /** Position of the chunk in its file, from 0. */
  readonly splitId: number;
  /**
   * Character offset of the chunk's first character in the converted text. A chunk that starts
   * with a repeated table header is the header, a newline, then text from this offset on: the
   * offset is that of its own text (its first row), not of the header's copy, so chunks keep
   * distinct, increasing offsets and `text.slice(splitIdxStart)` starts with what follows the
   * header (`repeatedHeader` characters in).
   */
  readonly splitIdxStart: number;
  /** Characters at the start of `content` that repeat a table's header row (with its newline); 0 when none. */
  readonly repeatedHeader: number;
  /** Tokens the model will see for this chunk (special tokens included), measured once here. */
  readonly tokens: number;
  /** First page the chunk covers (paged formats). */
  readonly pageNumber?: number;
  /** Last page the chunk covers: equal to pageNumber unless the chunk runs across pages. */
  readonly pageEnd?: number;
  /** The section (a sheet…) the chunk's own text starts in. */
  readonly section?: string;
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

/**
 * A unit the packer places: a word, sentence or passage of prose, or a table row. `weight` is
 * what it counts toward SPLIT_LENGTH and SPLIT_OVERLAP: 1 for prose.
 */
interface Unit extends Span {
  readonly weight: number;
  /** For a table row: its table, and whether it is the table's header row. */
  readonly table?: TableSpan;
  readonly header?: boolean;
}

/** Float sums of passage weights (1/rows each) must still reach a whole passage. */
const WEIGHT_EPSILON = 1e-9;

/**
 * Windows of units (first and last index) weighing up to `length` each (at least one unit), the
 * next starting so that the units it shares with the previous weigh up to `overlap`. With every
 * weight 1 this is Haystack's packing: `length` units a window, `overlap` of them shared.
 */
function packUnits(units: readonly Unit[], length: number, overlap: number): { first: number; last: number }[] {
  const windows: { first: number; last: number }[] = [];
  let first = 0;
  while (first < units.length) {
    let last = first;
    let weight = units[first]?.weight ?? 1;
    for (;;) {
      const next = units[last + 1];
      if (next === undefined || weight + next.weight > length + WEIGHT_EPSILON) break;
      weight += next.weight;
      last += 1;
    }
    windows.push({ first, last });
    if (last === units.length - 1) break;
    let start = last + 1;
    let shared = 0;
    for (;;) {
      const previous = units[start - 1];
      if (previous === undefined || start - 1 <= first || shared + previous.weight > overlap + WEIGHT_EPSILON) break;
      shared += previous.weight;
      start -= 1;
    }
    first = start;
  }
  return windows;
}

/**
 * Characters a chunk may hold per token of the limit: 256 tokens allow 8192 characters, several
 * times what real text needs (English averages 4–5 per token, CJK about 1).
 */
export const CHARS_PER_TOKEN = 32;

/** A measured piece of text, with the copy of a table header that goes before it (or ''). */
interface Piece extends MeasuredSpan {
  readonly prefix: string;
}

/**
 * Halves a span (at a word boundary when it has several words) until every piece fits, each
 * measured with `prefix` (a repeated table header) before it.
 */
function fitToTokens(text: string, span: Span, options: SplitOptions, prefix = ''): Piece[] {
  // Too long to be a chunk whatever it counts: cut before tokenizing megabytes.
  const tooLong = prefix.length + span.end - span.start > options.maxTokens * CHARS_PER_TOKEN;
  const tokens = tooLong ? Number.POSITIVE_INFINITY : options.countTokens(prefix + text.slice(span.start, span.end));
  if (tokens <= options.maxTokens) return [{ ...span, tokens, prefix }];
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
  if (cut <= span.start || cut >= span.end) return [{ ...span, tokens: options.countTokens(prefix + text.slice(span.start, span.end)), prefix }];
  return [...fitToTokens(text, { start: span.start, end: cut }, options, prefix), ...fitToTokens(text, { start: cut, end: span.end }, options, prefix)];
}

/** What goes before a chunk whose first unit is a row of a table below its header: the header and a newline. */
type HeaderPrefix = (unit: Unit) => string;

/**
 * Fits a window of units to the token limit. Prose-only windows are halved at word boundaries as
 * before; a window holding table rows is halved at unit boundaries, so no cut falls inside a row,
 * and each half that starts among rows gets the table's header before it. A single row too long
 * for the limit even on its own is cut as prose is (at its middle word, or character), and every
 * piece keeps the header copy before it.
 */
function fitWindow(text: string, units: readonly Unit[], first: number, last: number, options: SplitOptions, prefixOf: HeaderPrefix): Piece[] {
  const head = units[first];
  const tail = units[last];
  if (head === undefined || tail === undefined) return [];
  const span = { start: head.start, end: tail.end };
  let hasRows = false;
  for (let i = first; i <= last && !hasRows; i++) hasRows = units[i]?.table !== undefined;
  if (!hasRows) return fitToTokens(text, span, options);
  const prefix = prefixOf(head);
  if (first === last) return fitToTokens(text, span, options, prefix);
  const tooLong = prefix.length + span.end - span.start > options.maxTokens * CHARS_PER_TOKEN;
  const tokens = tooLong ? Number.POSITIVE_INFINITY : options.countTokens(prefix + text.slice(span.start, span.end));
  if (tokens <= options.maxTokens) return [{ ...span, tokens, prefix }];
  const middle = first + Math.ceil((last - first) / 2);
  return [...fitWindow(text, units, first, middle - 1, options, prefixOf), ...fitWindow(text, units, middle, last, options, prefixOf)];
}

/** The last entry of `starts` (sorted by offset) at or before `offset`. */
function startAt<T extends { readonly offset: number }>(starts: readonly T[], offset: number): T | undefined {
  let low = 0;
  let high = starts.length - 1;
  let found: T | undefined;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const start = starts[mid];
    if (start === undefined) break;
    if (start.offset <= offset) {
      found = start;
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

/** A row's weight toward SPLIT_LENGTH: see the module comment. */
function rowWeight(row: string, by: SplitBy, rows: number): number {
  if (by === 'sentence') return 1;
  if (by === 'passage') return 1 / rows;
  return Math.max(1, row.match(/\S+/g)?.length ?? 0);
}

/**
 * The units of a region: prose split by `by`, and each table's rows one unit each (the last row
 * taking the whitespace after the table, so units still cover the text). Tables are clipped to
 * the region: a region that starts inside a table starts at a row boundary of it.
 */
function regionUnits(input: SplitInput, region: Span, by: SplitBy): Unit[] {
  const { text } = input;
  const units: Unit[] = [];
  const prose = (start: number, end: number) => {
    if (end <= start) return;
    for (const unit of unitSpans(text.slice(start, end), by)) units.push({ start: unit.start + start, end: unit.end + start, weight: 1 });
  };
  let at = region.start;
  for (const table of input.tables ?? []) {
    const start = Math.max(table.start, region.start);
    const end = Math.min(table.end, region.end);
    if (end <= start || start < at) continue;
    prose(at, start);
    const rows: Span[] = [];
    for (let rowStart = start; rowStart < end; ) {
      const newline = text.indexOf('\n', rowStart);
      const rowEnd = newline === -1 || newline >= end ? end : newline + 1;
      if (text.slice(rowStart, rowEnd).trim() !== '') rows.push({ start: rowStart, end: rowEnd });
      rowStart = rowEnd;
    }
    // The whitespace after the table belongs to its last row.
    let after = end;
    while (after < region.end && /\s/.test(text.charAt(after))) after += 1;
    rows.forEach((row, i) => {
      units.push({
        start: row.start,
        end: i === rows.length - 1 ? after : row.end,
        weight: rowWeight(text.slice(row.start, row.end), by, rows.length),
        table,
        header: row.start === table.start,
      });
    });
    at = after;
  }
  prose(at, region.end);
  return units;
}

export function splitText(input: SplitInput, options: SplitOptions): Chunk[] {
  validateSplitOptions(options);
  const { text } = input;
  // A header whose copy would take half the token limit is not repeated: its rows are cut as prose.
  const headers = new Map<TableSpan, string>();
  const prefixOf: HeaderPrefix = (unit) => {
    const { table } = unit;
    if (table === undefined || unit.header === true) return '';
    let prefix = headers.get(table);
    if (prefix === undefined) {
      const header = text.slice(table.start, table.headerEnd);
      const fits = header.length <= (options.maxTokens * CHARS_PER_TOKEN) / 2 && options.countTokens(header) <= options.maxTokens / 2;
      prefix = fits && header.trim() !== '' ? `${header}\n` : '';
      headers.set(table, prefix);
    }
    return prefix;
  };
  const chunks: Chunk[] = [];
  for (const region of regions(input, options.withinPages === true)) {
    const units = regionUnits(input, region, options.by);
    for (const window of packUnits(units, options.length, options.overlap)) {
      for (const piece of fitWindow(text, units, window.first, window.last, options, prefixOf)) {
        const own = text.slice(piece.start, piece.end);
        const visible = own.trimEnd().length;
        if (own.trim().length === 0) continue;
        // The last page is that of the last visible character: trailing whitespace may be the
        // separator before the next page.
        const pageNumber = input.pages === undefined ? undefined : startAt(input.pages, piece.start)?.page;
        const pageEnd = input.pages === undefined ? undefined : startAt(input.pages, piece.start + visible - 1)?.page;
        const section = input.sections === undefined ? undefined : startAt(input.sections, piece.start)?.name;
        chunks.push({
          content: piece.prefix + own,
          splitId: chunks.length,
          splitIdxStart: piece.start,
          repeatedHeader: piece.prefix.length,
          tokens: piece.tokens,
          ...(pageNumber === undefined ? {} : { pageNumber }),
          ...(pageEnd === undefined ? {} : { pageEnd }),
          ...(section === undefined ? {} : { section }),
        });
      }
    }
  }
  return chunks;
}
