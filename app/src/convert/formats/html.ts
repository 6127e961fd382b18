// HTML → plain text. html-to-text keeps block structure as line breaks (which the
// passage splitter relies on) and drops markup; scripts, styles and other non-content elements are
// skipped outright so their bodies never reach the index.
//
// Tables come out as rows (one line each, cells joined by CELL_SEPARATOR, the first row the
// header; convert/structured-text.ts) with a TableSpan each, so the split stage keeps rows whole
// under their header. Its own dataTable format pads columns to a grid and wraps wide cells across
// lines, which parts a row's cells. A table's rows are laid out by `tableRows` below, between two
// private-use marks that are taken out again, with their positions, once the whole text is made.
//
// Nesting is measured before parsing (convert/nesting.ts): html-to-text's parser and its
// recursive walk are not linear in deeply nested input. And html-to-text would cut input over its
// own 16 Mi-character limit, printing a plain warning line, and the file would be reported
// indexed: that limit is lifted here, so the whole text comes out and the sandbox's
// CONVERT_MAX_CHARS refuses what is too long as too_large, never cut.
import { compile, type DomNode, type FormatCallback } from 'html-to-text';
import type { TablePrinterCell } from 'html-to-text/lib/block-text-builder.js';
import { assertHtmlNesting } from '../nesting.js';
import { sparseRow, tableLines } from '../structured-text.js';
import { decodeText } from '../text.js';
import type { Extracted, TableSpan } from '../types.js';

/** Marks around a table's rows in html-to-text's output (Unicode private use: no text has them; a page's own are removed). */
const TABLE_START = '\uE000';
const TABLE_END = '\uE001';
const MARKS = /[\uE000\uE001]/g;

/** Cells of a table on a grid: a cell spanning rows repeats in each (its row's fact stays on the row); one spanning columns fills the first. */
function gridOf(rows: readonly (readonly TablePrinterCell[])[]): string[][] {
  const grid: string[][] = [];
  rows.forEach((cells, y) => {
    const line = (grid[y] ??= []);
    let x = 0;
    for (const cell of cells) {
      while (line[x] !== undefined) x += 1;
      // Nested tables are a cell's text: their marks go.
      const text = cell.text.replace(MARKS, '');
      const rowspan = Math.max(1, Math.min(cell.rowspan, rows.length - y));
      const colspan = Math.max(1, Math.min(cell.colspan, 1000));
      for (let dy = 0; dy < rowspan; dy++) {
        const target = (grid[y + dy] ??= []);
        for (let dx = 0; dx < colspan; dx++) target[x + dx] = dx === 0 ? text : '';
      }
      x += colspan;
    }
  });
  // Holes (a row that rowspans skipped) become empty cells.
  return grid.map((line) => Array.from(line, (cell: string | undefined) => cell ?? ''));
}

function printRows(rows: TablePrinterCell[][]): string {
  const lines = [...tableLines(gridOf(rows).map(sparseRow))];
  return lines.length === 0 ? '' : `${TABLE_START}${lines.join('\n')}${TABLE_END}`;
}

/** html-to-text's dataTable walk, with rows printed as lines instead of a padded grid. */
const tableRows: FormatCallback = (elem, walk, builder, formatOptions) => {
  builder.openTable();
  const cell = (node: DomNode) => {
    const attributes = (node.attribs ?? {}) as Record<string, string | undefined>;
    builder.openTableCell();
    walk(node.children, builder);
    builder.closeTableCell({ colspan: Number(attributes.colspan) || 1, rowspan: Number(attributes.rowspan) || 1 });
  };
  const walkTable = (node: DomNode) => {
    if (node.type !== 'tag') return;
    if (['thead', 'tbody', 'tfoot', 'center'].includes(node.name ?? '')) {
      node.children.forEach(walkTable);
    } else if (node.name === 'tr') {
      builder.openTableRow();
      for (const child of node.children) if (child.type === 'tag' && (child.name === 'td' || child.name === 'th')) cell(child);
      builder.closeTableRow();
    }
  };
  elem.children.forEach(walkTable);
  builder.closeTable({ tableToString: printRows, leadingLineBreaks: formatOptions.leadingLineBreaks ?? 2, trailingLineBreaks: formatOptions.trailingLineBreaks ?? 2 });
};

const htmlToPlainText = compile({
  wordwrap: false,
  limits: { maxInputLength: Infinity },
  preserveNewlines: false,
  formatters: { tableRows },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'tableRows' },
    // mammoth's links from a footnote back to its reference (DOCX): an arrow, no words.
    { selector: 'a[href^="#footnote-ref-"]', format: 'skip' },
    { selector: 'a[href^="#endnote-ref-"]', format: 'skip' },
  ],
});

/** Takes the table marks out of `marked`, trimmed, and says where each table's rows are. */
function unmark(marked: string): Extracted {
  const tables: TableSpan[] = [];
  const parts: string[] = [];
  let length = 0;
  let open: number | undefined;
  let from = 0;
  MARKS.lastIndex = 0;
  for (const match of marked.matchAll(MARKS)) {
    parts.push(marked.slice(from, match.index));
    length += match.index - from;
    from = match.index + 1;
    if (match[0] === TABLE_START) {
      open = length;
    } else if (open !== undefined) {
      tables.push({ start: open, headerEnd: open, end: length });
      open = undefined;
    }
  }
  parts.push(marked.slice(from));
  const untrimmed = parts.join('');
  const text = untrimmed.trim();
  const lead = untrimmed.length - untrimmed.trimStart().length;
  const spans = tables
    .map((table) => ({ start: table.start - lead, end: table.end - lead }))
    .filter((table) => table.start >= 0 && table.end <= text.length && table.end > table.start)
    .map((table) => {
      const newline = text.indexOf('\n', table.start);
      return { start: table.start, headerEnd: newline === -1 || newline > table.end ? table.end : newline, end: table.end };
    });
  return { text, ...(spans.length === 0 ? {} : { tables: spans }) };
}

/**
 * HTML → text with its tables as rows (TableSpans): for HTML, Markdown and DOCX (via mammoth's
 * HTML). Throws ConversionError('too_large') for HTML nested past MAX_HTML_DEPTH.
 */
export function htmlToExtracted(html: string): Extracted {
  assertHtmlNesting(html);
  return unmark(htmlToPlainText(html.replace(MARKS, '')));
}

export function htmlToText(html: string): string {
  return htmlToExtracted(html).text;
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve(htmlToExtracted(decodeText(bytes, { html: true })));
}
