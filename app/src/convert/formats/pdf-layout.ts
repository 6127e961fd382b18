// From pdf.js text pieces (strings with a position and a size) to the text a reader sees:
// lines joined into paragraphs, hyphenated line ends mended, columns read one after the other,
// and a running header or footer kept once instead of on every page. Pure functions, no pdf.js:
// formats/pdf.ts turns pdf.js's text items into TextPiece and calls layoutPage, then
// pagesToText once every page is laid out (running lines and hyphen evidence need all of them).
//
// Coordinates are PDF user space: x grows to the right, y (the baseline) grows upwards.
//
// How a line break is read (pagesToText → joinLines), in order:
//   - a font size change of more than 15 %: a new paragraph (a heading and its text);
//   - a line ending in a hyphen after a letter, the next line starting with a letter: one word
//     broken across lines (mendHyphen decides whether the hyphen stays);
//   - a vertical gap more than 1.3 times the page's line spacing for that size: a new paragraph;
//   - moving up the page in the same column (not to the next column): a new paragraph;
//   - the next line indented (first-line indent): a new paragraph;
//   - the next line starting with a bullet or a number: a new line of a list;
//   - in justified text, a line that stops short after . ! ? or :, a paragraph's last line;
//   - room left on the line for the next line's first word (the writer broke it on purpose):
//     a new paragraph after . ! ? or :, else a new line;
//   - otherwise the text wrapped: the lines join with a space.

/** One text item of a page, as pdf.js gives it. */
export interface TextPiece {
  readonly text: string;
  /** Left end of the baseline. */
  readonly x: number;
  /** Baseline. */
  readonly y: number;
  readonly width: number;
  /** Font size in user space (the text matrix's vertical scale). */
  readonly size: number;
  /** Upright left-to-right text (no rotation or mirroring): only such pieces have a layout. */
  readonly horizontal: boolean;
  /** pdf.js's hasEOL: the text moves to a new line after this piece. */
  readonly endsLine: boolean;
}

type Side = 'left' | 'right' | 'across';

/** A line of text in reading order, with where it sits. */
export interface LayoutLine {
  readonly text: string;
  readonly x0: number;
  readonly x1: number;
  readonly y: number;
  readonly size: number;
  /** Which column it is in when the page has two; 'across' when it has one or the line spans both. */
  readonly side: Side;
}

export interface PageLayout {
  /** Lines in reading order; empty for a page without text. */
  readonly lines: readonly LayoutLine[];
  /** Pages whose text is rotated or otherwise not upright keep pdf.js's order and line breaks. */
  readonly plain?: string;
}

/** A list item's start: a bullet, or a number or letter with a dot or parenthesis. */
const BULLET = /^(?:[•◦▪▫‣⁃●○■□–—*-]\s|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)/u;
/** A sentence's end, closing quotes and brackets included. */
const ENDS_SENTENCE = /[.!?:]["'”’»)\]]*$/u;
/** A word broken at the line end (hyphen, Unicode hyphen or soft hyphen after a letter). */
const ENDS_IN_HYPHEN = /\p{L}[-\u2010\u00ad]$/u;

/** Below this share of upright pieces a page is read as pdf.js orders it, without layout. */
const MIN_HORIZONTAL_SHARE = 0.8;

// ---------------------------------------------------------------------------------------------
// Lines

interface MutableLine {
  pieces: TextPiece[];
  x0: number;
  x1: number;
  y: number;
  size: number;
}

const isBlank = (piece: TextPiece) => piece.text.trim().length === 0;

/**
 * Pieces into lines in the order the page draws them: a piece continues the current line when it
 * sits on the same baseline (within half its size) and does not go back left of the line's end.
 * Blank pieces (pdf.js's spaces) only separate words; their width is not the line's.
 */
function streamLines(pieces: readonly TextPiece[]): MutableLine[] {
  const lines: MutableLine[] = [];
  let current: MutableLine | undefined;
  for (const piece of pieces) {
    const blank = isBlank(piece);
    if (current !== undefined) {
      const tolerance = 0.5 * Math.max(piece.size, current.size);
      const sameBaseline = Math.abs(piece.y - current.y) <= tolerance;
      const forward = piece.x >= current.x1 - tolerance;
      if (sameBaseline && (forward || blank)) {
        current.pieces.push(piece);
        if (!blank) {
          current.x1 = Math.max(current.x1, piece.x + piece.width);
          current.size = Math.max(current.size, piece.size);
        }
        continue;
      }
    }
    if (blank) continue; // a space between lines belongs to neither
    current = { pieces: [piece], x0: piece.x, x1: piece.x + piece.width, y: piece.y, size: piece.size };
    lines.push(current);
  }
  return lines;
}

/**
 * A line's text: its pieces in order, a space where pdf.js gave a blank piece or where the gap
 * between two pieces is wider than a fifth of the font size (pdf.js usually gives the space; a
 * PDF that positions every word on its own sometimes does not).
 */
function lineText(pieces: readonly TextPiece[]): string {
  let text = '';
  let end: number | undefined;
  for (const piece of pieces) {
    if (isBlank(piece)) {
      if (text.length > 0 && !text.endsWith(' ')) text += ' ';
      continue;
    }
    if (end !== undefined && piece.x - end > 0.2 * piece.size && !text.endsWith(' ') && !piece.text.startsWith(' ')) text += ' ';
    text += piece.text;
    end = piece.x + piece.width;
  }
  return text.replace(/\s+/g, ' ').trim();
}

// Loops, not Math.min(...values): a page may have more pieces than a call has room for arguments.
function minOf(values: readonly number[]): number {
  let least = Infinity;
  for (const value of values) if (value < least) least = value;
  return least;
}

function maxOf(values: readonly number[]): number {
  let most = -Infinity;
  for (const value of values) if (value > most) most = value;
  return most;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Columns

interface Gutter {
  readonly start: number;
  readonly end: number;
}

/**
 * The empty vertical strip between two columns, if the page has two: the widest strip, at least
 * a font size wide, that (almost) no text crosses, with at least three lines wholly on each side,
 * columns at least ten font sizes wide that overlap vertically, and lines that fill their column
 * (prose, not a table's short cells). Counted on text pieces, so a gutter is found even when
 * lines of both columns come out of pdf.js as one line.
 */
function findGutter(lines: readonly MutableLine[]): Gutter | undefined {
  const pieces = lines.flatMap((line) => line.pieces.filter((piece) => !isBlank(piece)));
  if (lines.length < 6) return undefined;
  const size = median(pieces.map((piece) => piece.size));
  const minX = minOf(pieces.map((piece) => piece.x));
  const maxX = maxOf(pieces.map((piece) => piece.x + piece.width));
  // One bin per unit of user space (a point), fewer for absurdly wide pages.
  const scale = Math.max(1, (maxX - minX) / 4000);
  const bins = Math.ceil((maxX - minX) / scale) + 1;
  const change = new Int32Array(bins + 1);
  for (const piece of pieces) {
    const from = Math.floor((piece.x - minX) / scale);
    const to = Math.ceil((piece.x + piece.width - minX) / scale);
    const first = Math.max(0, from);
    const past = Math.min(bins, to);
    change[first] = (change[first] ?? 0) + 1;
    change[past] = (change[past] ?? 0) - 1;
  }
  // A title, a footer or a page number may cross the strip; a few lines in a hundred.
  const allowance = Math.max(1, Math.floor(lines.length * 0.08));
  let best: Gutter | undefined;
  let coverage = 0;
  let runStart = -1;
  for (let bin = 0; bin <= bins; bin++) {
    coverage += bin < bins ? (change[bin] ?? 0) : 0;
    const open = bin < bins && coverage <= allowance;
    if (open && runStart < 0) runStart = bin;
    if (!open && runStart >= 0) {
      const gutter = { start: minX + runStart * scale, end: minX + bin * scale };
      runStart = -1;
      if (gutter.start <= minX || bin >= bins) continue; // a margin, not a gutter
      if (gutter.end - gutter.start < Math.max(size, 6)) continue;
      if (best !== undefined && best.end - best.start >= gutter.end - gutter.start) continue;
      if (isColumnGutter(lines, gutter, size, minX, maxX)) best = gutter;
    }
  }
  return best;
}

function isColumnGutter(lines: readonly MutableLine[], gutter: Gutter, size: number, minX: number, maxX: number): boolean {
  if (gutter.start - minX < 10 * size || maxX - gutter.end < 10 * size) return false;
  const parts = lines.flatMap((line) => splitAtGutter(line, gutter));
  const left = parts.filter((part) => part.side === 'left');
  const right = parts.filter((part) => part.side === 'right');
  if (left.length < 3 || right.length < 3) return false;
  const fills = (side: readonly SidedLine[], from: number, to: number) => median(side.map((part) => part.x1 - part.x0)) >= 0.5 * (to - from);
  if (!fills(left, minX, gutter.start) || !fills(right, gutter.end, maxX)) return false;
  const span = (side: readonly SidedLine[]) => [minOf(side.map((part) => part.y)), maxOf(side.map((part) => part.y))] as const;
  const [leftLow, leftHigh] = span(left);
  const [rightLow, rightHigh] = span(right);
  const overlap = Math.min(leftHigh, rightHigh) - Math.max(leftLow, rightLow);
  return overlap >= 0.5 * Math.min(leftHigh - leftLow, rightHigh - rightLow);
}

interface SidedLine extends MutableLine {
  side: Side;
}

/** A line that crosses the gutter stays whole ('across'); one with text on both sides becomes two. */
function splitAtGutter(line: MutableLine, gutter: Gutter): SidedLine[] {
  const middle = (gutter.start + gutter.end) / 2;
  const content = line.pieces.filter((piece) => !isBlank(piece));
  if (content.some((piece) => piece.x < gutter.start && piece.x + piece.width > gutter.end)) return [{ ...line, side: 'across' }];
  const sides: SidedLine[] = [];
  for (const side of ['left', 'right'] as const) {
    const pieces = line.pieces.filter((piece) => (piece.x + piece.width / 2 < middle) === (side === 'left'));
    const words = pieces.filter((piece) => !isBlank(piece));
    if (words.length === 0) continue;
    sides.push({
      pieces,
      side,
      x0: minOf(words.map((piece) => piece.x)),
      x1: maxOf(words.map((piece) => piece.x + piece.width)),
      y: words[0]?.y ?? line.y,
      size: maxOf(words.map((piece) => piece.size)),
    });
  }
  return sides;
}

/**
 * Whether the page draws its columns line by line, left and right alternating, instead of one
 * column after the other: counted as returns from the right column to the left one.
 */
function interleaves(lines: readonly SidedLine[]): boolean {
  let returns = 0;
  let previous: Side | undefined;
  for (const line of lines) {
    if (line.side === 'across') continue;
    if (previous === 'right' && line.side === 'left') returns++;
    previous = line.side;
  }
  return returns >= 3;
}

/**
 * Reading order of interleaved columns: the page cut into bands at lines that span both columns,
 * and in each band the left column, then the right one, each in the order the page draws it.
 */
function columnOrder(lines: readonly SidedLine[]): SidedLine[] {
  const across = lines.filter((line) => line.side === 'across').sort((a, b) => b.y - a.y);
  /** How many spanning lines are above this one (binary search on `across`, top first). */
  const bandOf = (line: SidedLine) => {
    let low = 0;
    let high = across.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if ((across[middle]?.y ?? -Infinity) > line.y) low = middle + 1;
      else high = middle;
    }
    return low;
  };
  const bands = Array.from({ length: across.length + 1 }, () => ({ left: [] as SidedLine[], right: [] as SidedLine[] }));
  for (const line of lines) if (line.side !== 'across') bands[bandOf(line)]?.[line.side].push(line);
  return bands.flatMap((band, index) => [...across.slice(Math.max(0, index - 1), index), ...band.left, ...band.right]);
}

/** A page's text pieces in reading order, as lines. */
export function layoutPage(pieces: readonly TextPiece[]): PageLayout {
  const words = pieces.filter((piece) => !isBlank(piece));
  if (words.length === 0) return { lines: [] };
  if (words.filter((piece) => piece.horizontal).length < MIN_HORIZONTAL_SHARE * words.length) {
    return { lines: [], plain: plainText(pieces) };
  }
  const lines = streamLines(pieces.filter((piece) => piece.horizontal));
  const gutter = findGutter(lines);
  let sided: SidedLine[] = gutter === undefined ? lines.map((line) => ({ ...line, side: 'across' })) : lines.flatMap((line) => splitAtGutter(line, gutter));
  if (gutter !== undefined && interleaves(sided)) sided = columnOrder(sided);
  return {
    lines: sided
      .map((line) => ({ text: lineText(line.pieces), x0: line.x0, x1: line.x1, y: line.y, size: line.size, side: line.side }))
      .filter((line) => line.text.length > 0),
  };
}

/** pdf.js's order and line breaks, for pages without an upright layout. */
function plainText(pieces: readonly TextPiece[]): string {
  let text = '';
  for (const piece of pieces) {
    text += piece.text;
    if (piece.endsLine) text += '\n';
  }
  return text.replace(/[ \t]+\n/g, '\n').trim();
}

// ---------------------------------------------------------------------------------------------
// Running headers and footers

/** Lines this close to the top or bottom of a page's text (in rows) may be a running header or footer. */
const RUNNING_ROWS = 2;

/** The same header on every page, page numbers aside: digits count as one placeholder. */
const runningKey = (where: 'top' | 'bottom', text: string) => `${where}:${text.toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ').trim()}`;

/** For each running-line candidate of a page, its key. */
function edgeLines(layout: PageLayout): Map<LayoutLine, string> {
  const keys = new Map<LayoutLine, string>();
  const rows = [...new Set(layout.lines.map((line) => Math.round(line.y)))].sort((a, b) => b - a);
  const top = new Set(rows.slice(0, RUNNING_ROWS));
  const bottom = new Set(rows.slice(-RUNNING_ROWS));
  for (const line of layout.lines) {
    const row = Math.round(line.y);
    if (top.has(row)) keys.set(line, runningKey('top', line.text));
    else if (bottom.has(row)) keys.set(line, runningKey('bottom', line.text));
  }
  return keys;
}

/**
 * Keys of lines that run along the top or bottom of most pages: on at least half of the pages
 * with text, and on three at least (two pages sharing a first line prove nothing).
 */
function runningKeys(edges: readonly Map<LayoutLine, string>[]): Set<string> {
  const pagesWith = new Map<string, number>();
  for (const page of edges) {
    for (const key of new Set(page.values())) pagesWith.set(key, (pagesWith.get(key) ?? 0) + 1);
  }
  const pages = edges.filter((page) => page.size > 0).length;
  const least = Math.max(3, Math.ceil(pages / 2));
  return new Set([...pagesWith].filter(([, count]) => count >= least).map(([key]) => key));
}

// ---------------------------------------------------------------------------------------------
// Hyphens

/**
 * What the document itself says about its compounds: the hyphenated words it writes within a
 * line ("cost-effective") and every word it writes whole ("efficient"), lower case.
 */
export interface HyphenEvidence {
  readonly compounds: ReadonlySet<string>;
  readonly words: ReadonlySet<string>;
}

const COMPOUND = /^\p{L}+(?:[-\u2010]\p{L}+)+$/u;

function hyphenEvidence(pages: readonly PageLayout[]): HyphenEvidence {
  const compounds = new Set<string>();
  const words = new Set<string>();
  for (const page of pages) {
    for (const line of page.lines) {
      const tokens = line.text.split(' ');
      // A hyphen at the very end of a line proves nothing.
      if (ENDS_IN_HYPHEN.test(line.text)) tokens.pop();
      // Tokens first, then anchored patterns: linear even on a hostile line of one long word.
      for (const token of tokens) {
        const bare = token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
        if (COMPOUND.test(bare)) compounds.add(bare.toLowerCase().replace(/\u2010/gu, '-'));
        for (const word of bare.split(/[^\p{L}]+/u)) if (word.length > 0) words.add(word.toLowerCase());
      }
    }
  }
  return { compounds, words };
}

/**
 * First elements that English writes with a hyphen (well-known, self-service, non-profit,
 * half-time, all-round): such a hyphen at a line end is kept when the document gives no other
 * evidence. The price: a word hyphenated right after them (well-ness, self-ish, half-way) keeps
 * its hyphen unless the document writes it whole elsewhere.
 */
const HYPHENATED_PREFIXES: ReadonlySet<string> = new Set(['all', 'half', 'non', 'self', 'well']);

const isLetterOrHyphen = (char: string) => char === '-' || char === '\u2010' || /\p{L}/u.test(char);

/** The word a line ends with, before its final hyphen ("state-of-the" of "a state-of-the-"). */
function brokenHead(line: string): string | undefined {
  const last = line.at(-1);
  if (last !== '-' && last !== '\u2010') return undefined;
  let start = line.length - 1;
  while (start > 0 && isLetterOrHyphen(line.charAt(start - 1))) start--;
  const head = line.slice(start, -1).replace(/^[-\u2010]+/u, '');
  return /^\p{L}/u.test(head) && /\p{L}$/u.test(head) ? head : undefined;
}

/**
 * Joins a line ending in a hyphen with the next line's text. The hyphen goes (the word was
 * broken to fit: "ef-" + "ficient" → "efficient") when the next line starts with a lower-case
 * letter, unless:
 *   - the document writes the compound with its hyphen within a line elsewhere (cost-effective);
 *   - the part before it is already a compound (state-of-the-) or ends in a capital (X-ray);
 *   - the part before it is one of HYPHENATED_PREFIXES (well-known), and the document does not
 *     write the joined word whole elsewhere.
 * A soft hyphen (U+00AD) at a line end always goes. A hyphen before anything but a lower-case
 * letter stays (COVID-19, Anglo-French).
 */
export function mendHyphen(line: string, next: string, evidence: HyphenEvidence): string {
  if (line.endsWith('\u00ad')) return line.slice(0, -1) + next;
  const head = brokenHead(line);
  const tail = /^\p{Ll}\p{L}*/u.exec(next)?.[0];
  if (head === undefined || tail === undefined) return line + next;
  const compound = `${head}-${tail}`.toLowerCase().replace(/\u2010/gu, '-');
  const lastPart = head.split(/[-\u2010]/u).at(-1) ?? head;
  const keep = evidence.compounds.has(compound)
    || (!evidence.words.has(`${head}${tail}`.toLowerCase()) && (/[-\u2010]/u.test(head) || /\p{Lu}$/u.test(head) || HYPHENATED_PREFIXES.has(lastPart.toLowerCase())));
  return keep ? line + next : line.slice(0, -1) + next;
}

// ---------------------------------------------------------------------------------------------
// Paragraphs


interface PageMetrics {
  /** The smallest line spacing between lines of about this size (size rounded to half a unit). */
  readonly leading: ReadonlyMap<number, number>;
  /**
   * Each side's left edge, right edge (90th percentile of line ends: one long line does not move
   * it), and whether its text is justified (most lines end at the right edge).
   */
  readonly edges: ReadonlyMap<Side, { readonly left: number; readonly right: number; readonly justified: boolean }>;
}

const sizeClass = (size: number) => Math.round(size * 2) / 2;

function metricsOf(lines: readonly LayoutLine[]): PageMetrics {
  const leading = new Map<number, number>();
  lines.forEach((b, i) => {
    const a = lines[i - 1];
    if (a === undefined) return;
    const dy = a.y - b.y;
    if (a.side !== b.side || Math.abs(a.size - b.size) > 0.1 * Math.max(a.size, b.size)) return;
    if (dy < 0.7 * b.size || dy > 3 * b.size) return;
    const key = sizeClass(b.size);
    leading.set(key, Math.min(leading.get(key) ?? Infinity, dy));
  });
  const edges = new Map<Side, { left: number; right: number; justified: boolean }>();
  for (const side of ['left', 'right', 'across'] as const) {
    const sideLines = lines.filter((line) => line.side === side);
    if (sideLines.length === 0) continue;
    const ends = sideLines.map((line) => line.x1).sort((a, b) => a - b);
    const right = (ends.length >= 5 ? ends[Math.floor(ends.length * 0.9)] : ends.at(-1)) ?? 0;
    const size = median(sideLines.map((line) => line.size));
    const flush = ends.filter((end) => Math.abs(end - right) <= 0.2 * size).length;
    edges.set(side, { left: minOf(sideLines.map((line) => line.x0)), right, justified: sideLines.length >= 4 && flush >= 0.6 * sideLines.length });
  }
  return { leading, edges };
}

type Break = 'wrap' | 'line' | 'paragraph';

/** How the text goes on from line `a` to the next line `b` in reading order (see the header). */
function breakBetween(a: LayoutLine, b: LayoutLine, metrics: PageMetrics): Break {
  if (Math.abs(a.size - b.size) > 0.15 * Math.max(a.size, b.size)) return 'paragraph';
  if ((a.side === 'across') !== (b.side === 'across') && a.side !== b.side) return 'paragraph';
  const dy = a.y - b.y;
  const nextColumn = dy < -0.5 * b.size && b.x0 >= a.x0 + 5 * b.size;
  if (!nextColumn) {
    if (dy < -0.5 * b.size) return 'paragraph';
    const leading = metrics.leading.get(sizeClass(b.size)) ?? 1.25 * b.size;
    if (dy > 1.3 * leading) return 'paragraph';
  }
  if (ENDS_IN_HYPHEN.test(a.text) && /^\p{L}/u.test(b.text)) return 'wrap';
  if (BULLET.test(b.text)) return 'line';
  const edges = metrics.edges.get(b.side);
  const indent = 0.8 * b.size;
  if (edges !== undefined && b.x0 - edges.left >= indent && (nextColumn || b.x0 - a.x0 >= indent) && !BULLET.test(a.text)) return 'paragraph';
  const aEdges = metrics.edges.get(a.side);
  if (aEdges !== undefined) {
    const room = aEdges.right - a.x1;
    // In justified text only a paragraph's last line stops short of the edge.
    if (aEdges.justified && room > 2 * a.size && ENDS_SENTENCE.test(a.text)) return 'paragraph';
    const firstWord = b.text.split(' ')[0] ?? '';
    const firstWordWidth = ((b.x1 - b.x0) * firstWord.length) / Math.max(1, b.text.length);
    if (room > firstWordWidth + b.size) return ENDS_SENTENCE.test(a.text) ? 'paragraph' : 'line';
  }
  return 'wrap';
}

/** Lines into paragraphs: wrapped lines joined, paragraphs apart by a blank line. */
function joinLines(lines: readonly LayoutLine[], evidence: HyphenEvidence): string {
  const metrics = metricsOf(lines);
  let text = '';
  let previous: LayoutLine | undefined;
  for (const line of lines) {
    if (previous === undefined) text = line.text;
    else {
      const kind = breakBetween(previous, line, metrics);
      if (kind === 'paragraph') text += `\n\n${line.text}`;
      else if (kind === 'line') text += `\n${line.text}`;
      else if (ENDS_IN_HYPHEN.test(previous.text)) {
        // Mend within the last line only, so evidence and rules see just the broken word.
        const cut = text.length - previous.text.length;
        text = text.slice(0, cut) + mendHyphen(previous.text, line.text, evidence);
      } else text += ` ${line.text}`;
    }
    previous = line;
  }
  return text;
}

/**
 * Every page's text, in page order (an empty string for a page without text): paragraphs joined,
 * hyphens mended, and a running header or footer kept on the first page that has it only
 * (at the top or bottom of that page's text, where it was drawn).
 */
export function pagesToText(pages: readonly PageLayout[]): string[] {
  const evidence = hyphenEvidence(pages);
  const edges = pages.map(edgeLines);
  const running = runningKeys(edges);
  const seen = new Set<string>();
  return pages.map((page, index) => {
    if (page.plain !== undefined) return page.plain;
    const pageEdges = edges[index] ?? new Map<LayoutLine, string>();
    const top: string[] = [];
    const bottom: string[] = [];
    const body: LayoutLine[] = [];
    for (const line of page.lines) {
      const key = pageEdges.get(line);
      if (key === undefined || !running.has(key)) body.push(line);
      else if (!seen.has(key)) {
        seen.add(key);
        (key.startsWith('top:') ? top : bottom).push(line.text);
      }
    }
    // A line both kept here and drawn again on the page (twice on its first page) is dropped.
    for (const key of pageEdges.values()) if (running.has(key)) seen.add(key);
    return [...top, joinLines(body, evidence), ...bottom].filter((part) => part.length > 0).join('\n\n');
  });
}
