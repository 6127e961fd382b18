// Builds a converter's text line by line while recording where its structure lies: pages (slides),
// tables (one row a line, the header first) and sections (chapters). Office converters walk their
// documents in reading order and hand each block here, so offsets are computed in one place.
import type { Extracted, PageStart, SectionStart, TableSpan } from './types.js';

/** Between a row's cells: plain enough for the model, and a character cell text rarely holds. */
export const CELL_SEPARATOR = ' | ';

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

export class TextLayout {
  private readonly parts: string[] = [];
  private length = 0;
  /** What goes before the next line: nothing at the start, a newline, or a blank line between blocks. */
  private separator = '';
  private readonly pages: PageStart[] = [];
  private readonly tables: TableSpan[] = [];
  private readonly sections: SectionStart[] = [];
  /** A label written before the next line, and never if no line follows (`labelNext`). */
  private label: string | undefined;

  /** Where the next line will start. */
  private get next(): number {
    return this.length + this.separator.length;
  }

  private flushLabel(): void {
    const label = this.label;
    this.label = undefined;
    if (label !== undefined) this.append(label);
  }

  private append(text: string): void {
    this.flushLabel();
    this.parts.push(this.separator, text);
    this.length += this.separator.length + text.length;
    this.separator = '\n';
  }

  /** One line of text (a paragraph, a heading); its own line breaks are kept, blank ones dropped. */
  line(text: string): void {
    for (const piece of text.split('\n')) {
      const trimmed = piece.replace(/[ \t]+/g, ' ').trim();
      if (trimmed.length > 0) this.append(trimmed);
    }
  }

  /** Text already laid out (converted HTML), appended as it is but for its outer blank space. */
  block(text: string): void {
    const trimmed = text.trim();
    if (trimmed.length > 0) this.append(trimmed);
  }

  /** Ends a block (a slide, a shape, a table): the next line follows a blank line. */
  blank(): void {
    if (this.length > 0) this.separator = '\n\n';
  }

  /** A line ("Speaker notes:") that introduces what follows, written only when something does. */
  labelNext(label: string): void {
    this.label = label;
  }

  /** Forgets a label no line followed. */
  dropLabel(): void {
    this.label = undefined;
  }

  /** Page `page` starts at the next line. */
  page(page: number): void {
    this.pages.push({ page, offset: this.next });
  }

  /** Section `name` starts at the next line. */
  section(name: string): void {
    this.sections.push({ name, offset: this.next });
  }

  /**
   * A table: one line per row with its cells in order, the first row its header. Rows with no
   * text are dropped; cells keep their places (a merged or empty cell is an empty string).
   */
  table(rows: readonly (readonly string[])[]): void {
    const lines = rows.map((cells) => cells.map(oneLine)).filter((cells) => cells.some((cell) => cell.length > 0));
    if (lines.length === 0) return;
    this.flushLabel();
    this.blank();
    const start = this.next;
    let headerEnd = start;
    lines.forEach((cells, index) => {
      this.append(cells.join(CELL_SEPARATOR).trim());
      if (index === 0) headerEnd = this.length;
    });
    this.tables.push({ start, headerEnd, end: this.length });
    this.blank();
  }

  finish(): Extracted {
    const text = this.parts.join('');
    // A page or section that starts after the last line (an empty last slide) starts at the end.
    const clamp = <T extends { readonly offset: number }>(mark: T): T => ({ ...mark, offset: Math.min(mark.offset, text.length) });
    return {
      text,
      ...(this.pages.length > 0 ? { pages: this.pages.map(clamp) } : {}),
      ...(this.tables.length > 0 ? { tables: [...this.tables] } : {}),
      ...(this.sections.length > 0 ? { sections: this.sections.map(clamp) } : {}),
    };
  }
}
