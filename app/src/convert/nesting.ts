// How deeply a document nests, measured before a recursive parser sees it. HTML's parser
// (htmlparser2, under html-to-text) keeps its open elements in an array it shifts and unshifts,
// and html-to-text walks the tree recursively: 200,000 nested <div> stalled a worker for half a
// minute and 500,000 unclosed tags took minutes (quadratic); marked recurses once per list or
// quote level, so a list indented one more step per line exhausted the stack. A linear scan here
// refuses such a file as too_large, naming the limit, before any of that starts; under the limit
// the parsers' work stays linear in the file's size.
import { ConversionError } from './types.js';

/**
 * Most levels of nested HTML elements. Browsers stop nesting at the same depth (Blink's HTML
 * parser attaches deeper elements to the 512th level instead), so no page that displays as its
 * author meant it needs more.
 */
export const MAX_HTML_DEPTH = 512;

/**
 * Most levels of nested Markdown lists and block quotes. Each list level becomes two HTML
 * elements (ul or ol, and li), so a file under this limit stays under MAX_HTML_DEPTH once rendered.
 */
export const MAX_MARKDOWN_DEPTH = 250;

// The rules below follow the HTML parser that html-to-text uses (htmlparser2), so that the depth
// counted here is the depth of the tree it builds: which elements never hold others, which hold
// raw text, which an opening tag closes first, and where `<x/>` closes itself (only in SVG and
// MathML).
const VOID_ELEMENTS: ReadonlySet<string> = new Set(
  'area base basefont br col command embed frame hr img input isindex keygen link meta param source track wbr'.split(' '),
);
const RAW_TEXT_ELEMENTS: ReadonlySet<string> = new Set(['script', 'style', 'title', 'textarea', 'xmp']);
const FOREIGN_ROOTS: ReadonlySet<string> = new Set(['math', 'svg']);
const HTML_IN_FOREIGN: ReadonlySet<string> = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignobject', 'desc', 'title']);

const FORM_CONTROLS = ['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea'];
/** Opening the key first closes any open element of the value at the top of the stack. */
const CLOSED_BY_OPENING: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ...'address article aside blockquote details div dl fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section table ul'
    .split(' ')
    .map((name) => [name, new Set(['p'])] as const),
  ...['select', 'input', 'output', 'button', 'datalist', 'textarea'].map((name) => [name, new Set(FORM_CONTROLS)] as const),
  ['tr', new Set(['tr', 'th', 'td'])],
  ['th', new Set(['th'])],
  ['td', new Set(['thead', 'th', 'td'])],
  ['body', new Set(['head', 'link', 'script'])],
  ['li', new Set(['li'])],
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['dd', new Set(['dd', 'dt'])],
  ['dt', new Set(['dd', 'dt'])],
  ['rt', new Set(['rt', 'rp'])],
  ['rp', new Set(['rt', 'rp'])],
  ['tbody', new Set(['thead', 'tbody'])],
  ['tfoot', new Set(['thead', 'tbody'])],
]);

const isAsciiLetter = (code: number) => (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
const isSpace = (code: number) => code === 32 || code === 9 || code === 10 || code === 12 || code === 13;

/** Open elements, innermost last, with a count per name so a stray end tag costs no search. */
class OpenElements {
  private readonly names: string[] = [];
  private readonly counts = new Map<string, number>();
  /** Whether `<x/>` closes itself here: inside svg or math, not inside their HTML islands. */
  private readonly foreign: boolean[] = [];

  /** Opens an element; returns the depth it sits at (a void element too, as a leaf). */
  open(name: string, selfClosing: boolean): number {
    const closes = CLOSED_BY_OPENING.get(name);
    while (closes !== undefined && this.names.length > 0 && closes.has(this.names[this.names.length - 1] ?? '')) this.pop();
    if (VOID_ELEMENTS.has(name) || (selfClosing && this.foreign.at(-1) === true)) return this.names.length + 1;
    this.names.push(name);
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
    if (FOREIGN_ROOTS.has(name)) this.foreign.push(true);
    else if (HTML_IN_FOREIGN.has(name)) this.foreign.push(false);
    return this.names.length;
  }

  close(name: string): void {
    if (FOREIGN_ROOTS.has(name) || HTML_IN_FOREIGN.has(name)) this.foreign.pop();
    if ((this.counts.get(name) ?? 0) === 0) return; // nothing to close: the parser ignores it
    // Each element is popped once at most: linear over the whole file.
    for (let popped = this.pop(); popped !== name; popped = this.pop()) {
      if (popped === undefined) return;
    }
  }

  private pop(): string | undefined {
    const name = this.names.pop();
    if (name !== undefined) this.counts.set(name, (this.counts.get(name) ?? 1) - 1);
    return name;
  }
}

/** Where the tag that starts at `from` (just after its name) ends: after its `>`, quotes respected. */
function tagEnd(html: string, from: number): { end: number; selfClosing: boolean } {
  let index = from;
  while (index < html.length) {
    const code = html.charCodeAt(index);
    if (code === 62 /* > */) return { end: index + 1, selfClosing: html.charCodeAt(index - 1) === 47 /* / */ };
    if (code === 61 /* = */) {
      index++;
      while (index < html.length && isSpace(html.charCodeAt(index))) index++;
      const quote = html.charCodeAt(index);
      if (quote === 34 || quote === 39) {
        const close = html.indexOf(String.fromCharCode(quote), index + 1);
        if (close < 0) return { end: html.length, selfClosing: false };
        index = close + 1;
        continue;
      }
      continue;
    }
    index++;
  }
  return { end: html.length, selfClosing: false };
}

function nameEnd(html: string, from: number): number {
  let index = from;
  while (index < html.length) {
    const code = html.charCodeAt(index);
    if (isSpace(code) || code === 47 /* / */ || code === 62 /* > */) break;
    index++;
  }
  return index;
}

/**
 * The deepest nesting of elements that parsing this HTML builds, counted in one pass; stops
 * counting once past `limit`, which it returns then.
 */
export function htmlDepth(html: string, limit = MAX_HTML_DEPTH): number {
  const open = new OpenElements();
  let deepest = 0;
  let index = 0;
  for (;;) {
    const lt = html.indexOf('<', index);
    if (lt < 0 || lt + 1 >= html.length) return deepest;
    const next = html.charCodeAt(lt + 1);
    if (next === 33 /* ! */ && html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      index = close < 0 ? html.length : close + 3;
    } else if (next === 33 || next === 63 /* ? */) {
      const close = html.indexOf('>', lt + 2);
      index = close < 0 ? html.length : close + 1;
    } else if (next === 47 /* / */) {
      const end = nameEnd(html, lt + 2);
      if (end > lt + 2 && isAsciiLetter(html.charCodeAt(lt + 2))) open.close(html.slice(lt + 2, end).toLowerCase());
      const close = html.indexOf('>', end);
      index = close < 0 ? html.length : close + 1;
    } else if (isAsciiLetter(next)) {
      const end = nameEnd(html, lt + 1);
      const name = html.slice(lt + 1, end).toLowerCase();
      const tag = tagEnd(html, end);
      deepest = Math.max(deepest, open.open(name, tag.selfClosing));
      if (deepest > limit) return deepest;
      index = tag.end;
      if (RAW_TEXT_ELEMENTS.has(name) && !tag.selfClosing) {
        // Its content is text, tags and all, up to its end tag.
        const closing = new RegExp(`</${name}`, 'gi');
        closing.lastIndex = index;
        index = closing.exec(html)?.index ?? html.length;
      }
    } else {
      index = lt + 1; // a '<' in text
    }
  }
}

/** Refuses HTML that nests deeper than MAX_HTML_DEPTH, before it is parsed. */
export function assertHtmlNesting(html: string): void {
  if (htmlDepth(html) > MAX_HTML_DEPTH) {
    throw new ConversionError('too_large', `HTML nests elements more than ${MAX_HTML_DEPTH} levels deep (the limit, as in browsers)`);
  }
}

const LIST_MARKER = /^(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)/;
const FENCE = /^(`{3,}|~{3,})/;

/**
 * The deepest nesting of lists and block quotes in Markdown, counted in one pass over its lines
 * (CommonMark's rules, simplified so that they never count less than marked nests): a list item
 * indented to at least the content of the item above it nests inside it; `>` markers add a quote
 * level each; fenced code is skipped. Stops counting once past `limit`.
 */
export function markdownDepth(markdown: string, limit = MAX_MARKDOWN_DEPTH): number {
  /** Content columns of the open list items, outermost first. */
  const items: number[] = [];
  let deepest = 0;
  let fence: string | undefined;
  let start = 0;
  while (start <= markdown.length) {
    let end = markdown.indexOf('\n', start);
    if (end < 0) end = markdown.length;
    let position = start;
    let quotes = 0;
    // Quote markers: up to three spaces, '>', an optional space; again.
    for (;;) {
      let probe = position;
      while (probe < end && probe - position < 3 && markdown.charCodeAt(probe) === 32) probe++;
      if (markdown.charCodeAt(probe) !== 62 /* > */ || probe >= end) break;
      quotes++;
      position = probe + 1;
      if (markdown.charCodeAt(position) === 32) position++;
    }
    let column = 0;
    while (position < end) {
      const code = markdown.charCodeAt(position);
      if (code === 32) column++;
      else if (code === 9) column += 4 - (column % 4);
      else break;
      position++;
    }
    // Only the start of the rest matters; a bounded slice keeps a long line's cost linear.
    const head = markdown.slice(position, Math.min(end, position + 16)).replace(/\r$/, '');
    const fenceMark = FENCE.exec(head)?.[1];
    if (fence !== undefined) {
      if (fenceMark !== undefined && fenceMark[0] === fence[0] && fenceMark.length >= fence.length) fence = undefined;
    } else if (fenceMark !== undefined) {
      fence = fenceMark;
    } else {
      const marker = LIST_MARKER.exec(head)?.[0];
      if (marker !== undefined) {
        while (items.length > 0 && column < (items.at(-1) ?? 0)) items.pop();
        items.push(column + marker.length + 1);
      }
    }
    deepest = Math.max(deepest, quotes + items.length);
    if (deepest > limit) return deepest;
    start = end + 1;
  }
  return deepest;
}

/** Refuses Markdown whose lists and quotes nest deeper than MAX_MARKDOWN_DEPTH, before it is parsed. */
export function assertMarkdownNesting(markdown: string): void {
  if (markdownDepth(markdown) > MAX_MARKDOWN_DEPTH) {
    throw new ConversionError('too_large', `Markdown nests lists and quotes more than ${MAX_MARKDOWN_DEPTH} levels deep (the limit)`);
  }
}
