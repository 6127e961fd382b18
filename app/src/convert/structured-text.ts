// Text with its structure, built block by block: what the table-holding converters (XLSX, ODS,
// CSV, HTML, DOCX) write through, so each table comes out the same way and its TableSpan and the
// sections' offsets are counted where the text is made, never searched for afterwards.
import { ConversionError, type Extracted, type SectionStart, type TableSpan } from './types.js';

/**
 * Between the cells of a row. A pipe with spaces reads as a column break to people and to the
 * model (Markdown tables use it), and does not occur in ordinary cell text.
 */
export const CELL_SEPARATOR = ' | ';

/**
 * Most characters this builder writes. A sparse sheet expands: a cell in column 16,000 of a row
 * puts 16,000 empty cells before it. The sandbox refuses text over CONVERT_MAX_CHARS after the
 * converter returns; this stops the expansion before it fills the heap (far above that default).
 */
export const MAX_STRUCTURED_CHARS = 64 * 1024 * 1024;

/** A cell's text on one line: runs of whitespace (line breaks in a cell included) become one space. */
export function cellText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A row as the cells that hold something: [column from 0, text], in column order. */
export type SparseRow = readonly (readonly [column: number, text: string])[];

/** A dense row (every cell, in order) as a sparse one. */
export function sparseRow(cells: readonly string[]): SparseRow {
  return cells.flatMap((cell, column) => (cell === '' ? [] : [[column, cell] as const]));
}

/**
 * A table's lines: cells on one line, rows without any text left out, columns empty in every row
 * left out, trailing empty cells dropped, cells joined by CELL_SEPARATOR; the first line is the
 * header. `reserve` is told each line's length before the line is laid out.
 */
export function* tableLines(rows: readonly SparseRow[], reserve: (characters: number) => void = () => undefined): Generator<string> {
  const cleaned = rows
    .map((row) => row.map(([column, text]) => [column, cellText(text)] as const).filter(([, text]) => text !== ''))
    .filter((row) => row.length > 0);
  const used = [...new Set(cleaned.flatMap((row) => row.map(([column]) => column)))].sort((a, b) => a - b);
  const position = new Map(used.map((column, i) => [column, i]));
  for (const row of cleaned) {
    const last = row.reduce((most, [column]) => Math.max(most, position.get(column) ?? 0), 0);
    // Checked before the row is laid out: a row of far-apart cells is mostly separators.
    reserve(row.reduce((sum, [, text]) => sum + text.length, 0) + last * CELL_SEPARATOR.length);
    const dense = new Array<string>(last + 1).fill('');
    for (const [column, text] of row) dense[position.get(column) ?? 0] = text;
    yield dense.join(CELL_SEPARATOR);
  }
}

export class StructuredText {
  private readonly parts: string[] = [];
  private length = 0;
  private readonly tables: TableSpan[] = [];
  private readonly sections: SectionStart[] = [];

  constructor(private readonly maxChars = MAX_STRUCTURED_CHARS) {}

  /** Starts a named section (a sheet) at the next block, its name written as a line of its own. */
  section(name: string): void {
    const title = cellText(name);
    this.separate();
    this.sections.push({ name: title, offset: this.length });
    if (title !== '') this.write(title);
  }

  /** A paragraph or other block of text, after a blank line. */
  block(text: string): void {
    const trimmed = text.trim();
    if (trimmed === '') return;
    this.separate();
    this.write(trimmed);
  }

  /**
   * A table, one line per row with its cells joined by CELL_SEPARATOR: cells on one line, rows
   * without any text left out, columns empty in every row left out, trailing empty cells dropped;
   * the first row left is the header. Nothing is written for a table without text.
   */
  table(rows: readonly (readonly string[])[]): void {
    this.sparseTable(rows.map(sparseRow));
  }

  /** `table` for rows given as the cells that hold something (sheets: a cell may sit in column 16,000). */
  sparseTable(rows: readonly SparseRow[]): void {
    let start = -1;
    let headerEnd = -1;
    for (const line of tableLines(rows, (more) => {
      this.reserve(more + 2);
    })) {
      if (start === -1) {
        this.separate();
        start = this.length;
      } else {
        this.write('\n');
      }
      this.write(line);
      if (headerEnd === -1) headerEnd = this.length;
    }
    if (start !== -1) this.tables.push({ start, headerEnd, end: this.length });
  }

  /**
   * Another converter's output as a block: its tables and sections move with it. (DOCX: the body
   * that mammoth and html.ts make, between the headers and the footers.)
   */
  append(extracted: Extracted): void {
    const text = extracted.text.trim();
    if (text === '') return;
    const lead = extracted.text.length - extracted.text.trimStart().length;
    this.separate();
    const shift = this.length - lead;
    this.write(text);
    for (const table of extracted.tables ?? []) this.tables.push({ start: table.start + shift, headerEnd: table.headerEnd + shift, end: table.end + shift });
    for (const section of extracted.sections ?? []) this.sections.push({ name: section.name, offset: Math.max(0, section.offset + shift) });
  }

  /** Characters written so far: converters that expand (repeated cells) check it as they go. */
  get size(): number {
    return this.length;
  }

  /** Throws too_large when `more` characters would take the text past the builder's limit. */
  reserve(more: number): void {
    if (this.length + more > this.maxChars) {
      throw new ConversionError('too_large', `its text passes ${this.maxChars} characters (sparse or repeated cells expand as they are written)`);
    }
  }

  build(): Extracted {
    return {
      text: this.parts.join(''),
      ...(this.tables.length === 0 ? {} : { tables: this.tables }),
      ...(this.sections.length === 0 ? {} : { sections: this.sections }),
    };
  }

  private separate(): void {
    if (this.length > 0) this.write('\n\n');
  }

  private write(text: string): void {
    this.reserve(text.length);
    this.parts.push(text);
    this.length += text.length;
  }
}
