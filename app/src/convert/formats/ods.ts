// ODS (OpenDocument spreadsheet) → text: each sheet a section (its name, then its rows as a table:
// convert/structured-text.ts).
//
// content.xml is inflated through BoundedZip and read as a stream of XML events (convert/xml.ts),
// as XLSX is: no maintained JavaScript ODS reader reads it without inflating the archive itself.
// A cell's paragraphs (text:p) are what the spreadsheet displays, dates and numbers formatted as
// the author saw them, so they are taken as they are.
//
// Repeats are where ODS files blow up: LibreOffice writes a sheet's unused area as one row
// "repeated 1,048,000 times" of one cell "repeated 16,000 times". Empty repeats only move the
// position; repeats with text are written out, up to the spreadsheet's last column and row.
import { StructuredText, type SparseRow } from '../structured-text.js';
import { attribute, walkXml } from '../xml.js';
import { BoundedZip } from '../zip.js';
import { ConversionError, type Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';

/** LibreOffice's last column and row: positions past them are not cells anyone sees. */
export const MAX_COLUMNS = 16_384;
export const MAX_ROWS = 1_048_576;

/**
 * Most cells that repeats may expand text into. Each written cell takes a character and a
 * separator at least, so CONVERT_MAX_CHARS's default (10 M) holds 2.5 M of them: a file past this
 * would be refused after it had filled the heap; counting refuses it first.
 */
export const MAX_EXPANDED_CELLS = 4_000_000;

interface Sheet {
  readonly name: string;
  readonly rows: SparseRow[];
}

/** How many times a repeat attribute says, at least 1, at most `cap`. */
function repeats(value: string | undefined, cap: number): number {
  const count = Number(value ?? 1);
  return Number.isInteger(count) && count >= 1 ? Math.min(count, cap) : 1;
}

function readSheets(xml: string): Sheet[] {
  const sheets: Sheet[] = [];
  let sheet: Sheet | undefined;
  let tableDepth = 0;
  let row: { cells: [number, string][]; repeat: number } | undefined;
  let rowPosition = 0;
  let column = 0;
  let cell: { repeat: number; paragraphs: string[] } | undefined;
  let paragraph: string[] | undefined;
  /** Inside an annotation (a comment on the cell): not the cell's text. */
  let annotationDepth = 0;
  let expanded = 0;
  const expand = (cells: number) => {
    expanded += cells;
    if (expanded > MAX_EXPANDED_CELLS) throw new ConversionError('too_large', `ODS repeats cells with text more than ${MAX_EXPANDED_CELLS} times`);
  };

  walkXml(xml, {
    open(name, attributes) {
      if (name === 'table') {
        tableDepth += 1;
        // A table inside a cell (rare) is read as that cell's text.
        if (tableDepth === 1) {
          sheet = { name: attribute(attributes, 'name') ?? `Sheet${sheets.length + 1}`, rows: [] };
          rowPosition = 0;
        }
      } else if (tableDepth !== 1) {
        if (name === 'p' && cell !== undefined && annotationDepth === 0) paragraph = [];
        else if (name === 's' && paragraph !== undefined) paragraph.push(' '.repeat(repeats(attribute(attributes, 'c'), 100)));
        else if ((name === 'tab' || name === 'line-break') && paragraph !== undefined) paragraph.push(' ');
      } else if (name === 'table-row') {
        row = { cells: [], repeat: repeats(attribute(attributes, 'number-rows-repeated'), MAX_ROWS) };
        column = 0;
      } else if ((name === 'table-cell' || name === 'covered-table-cell') && row !== undefined) {
        cell = { repeat: repeats(attribute(attributes, 'number-columns-repeated'), MAX_COLUMNS), paragraphs: [] };
      } else if (name === 'annotation') {
        annotationDepth += 1;
      } else if (name === 'p' && cell !== undefined && annotationDepth === 0) {
        paragraph = [];
      } else if (name === 's' && paragraph !== undefined) {
        paragraph.push(' '.repeat(repeats(attribute(attributes, 'c'), 100)));
      } else if ((name === 'tab' || name === 'line-break') && paragraph !== undefined) {
        paragraph.push(' ');
      }
    },
    close(name) {
      if (name === 'table') {
        tableDepth -= 1;
        if (tableDepth === 0 && sheet !== undefined) {
          sheets.push(sheet);
          sheet = undefined;
        }
      } else if (name === 'annotation') {
        annotationDepth = Math.max(0, annotationDepth - 1);
      } else if (name === 'p' && paragraph !== undefined) {
        cell?.paragraphs.push(paragraph.join(''));
        paragraph = undefined;
      } else if (tableDepth !== 1) {
        return;
      } else if ((name === 'table-cell' || name === 'covered-table-cell') && cell !== undefined && row !== undefined) {
        const text = cell.paragraphs.join('\n');
        const last = Math.min(column + cell.repeat, MAX_COLUMNS);
        if (text.trim() !== '') {
          expand(last - column);
          for (let at = column; at < last; at++) row.cells.push([at, text]);
        }
        column = last;
        cell = undefined;
      } else if (name === 'table-row' && row !== undefined && sheet !== undefined) {
        const times = Math.min(row.repeat, MAX_ROWS - rowPosition);
        if (row.cells.length > 0) {
          expand(row.cells.length * (times - 1));
          for (let i = 0; i < times; i++) sheet.rows.push(row.cells);
        }
        rowPosition += Math.max(0, times);
        row = undefined;
      }
    },
    text(text) {
      if (paragraph !== undefined && annotationDepth === 0) paragraph.push(text);
    },
  });
  return sheets;
}

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  const zip = await BoundedZip.open(bytes, 'ODS', limits);
  const manifest = await zip.readText('META-INF/manifest.xml');
  if (manifest?.includes('encryption-data') === true) {
    throw new ConversionError('encrypted', 'ODS is password-protected; save it without a password to index it');
  }
  const content = await zip.readText('content.xml');
  if (content === undefined) throw new ConversionError('corrupt', 'ODS has no content.xml');
  const out = new StructuredText();
  for (const sheet of readSheets(content)) {
    if (sheet.rows.length === 0) continue;
    out.section(sheet.name);
    out.sparseTable(sheet.rows);
  }
  return out.build();
}
