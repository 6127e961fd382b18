// OpenDocument text and presentations (ODT, ODP) → text: content.xml, read through BoundedZip and
// parsed with saxes (convert/xml-tree.ts), walked in document order. Paragraphs and headings are
// lines; tables are rows under their header; an ODP's slides (draw:page) are pages, their frames
// read in reading order (convert/reading-order.ts), then their speaker notes. No maintained
// JavaScript ODF reader exposes tables and slides, and content.xml is plain to walk.
import { readingOrder, type Placed } from '../reading-order.js';
import { TextLayout } from '../text-layout.js';
import { ConversionError, type ConvertLimits, type Extracted } from '../types.js';
import { attribute, childNamed, isElement, parseXml, type XmlElement } from '../xml-tree.js';
import { BoundedZip } from '../zip.js';

/** Elements whose text is not the document's: tracked deletions, indexes built from headings, forms. */
const SKIPPED = new Set(['tracked-changes', 'table-of-content', 'illustration-index', 'alphabetical-index', 'bibliography', 'forms', 'sequence-decls', 'annotation', 'note-citation', 'page-thumbnail']);
/** Rows or cells an ODF repeats (a spreadsheet-like table's thousands of empty columns): more is noise. */
const MAX_REPEAT = 100;

/** The text of a paragraph or heading, its spans, links, spaces and tabs. */
function inlineText(element: XmlElement): string {
  let text = '';
  for (const child of element.children) {
    if (!isElement(child)) {
      text += child;
      continue;
    }
    if (SKIPPED.has(child.local)) continue;
    if (child.local === 's') text += ' '.repeat(Math.min(MAX_REPEAT, Number(attribute(child, 'c') ?? '1') || 1));
    else if (child.local === 'tab') text += '\t';
    else if (child.local === 'line-break') text += '\n';
    // A footnote's body, where its mark is.
    else if (child.local === 'note') text += ` (${blockText(childNamed(child, 'note-body') ?? child)})`;
    else text += inlineText(child);
  }
  return text;
}

/** All paragraphs below an element as one line (a table cell, a note). */
function blockText(element: XmlElement): string {
  const layout = new TextLayout();
  writeBlocks(element, layout);
  return layout.finish().text.replace(/\s+/g, ' ').trim();
}

const repeat = (element: XmlElement, name: string): number => Math.min(MAX_REPEAT, Math.max(1, Number(attribute(element, name) ?? '1') || 1));

function tableRows(table: XmlElement): string[][] {
  const rows: string[][] = [];
  const visit = (element: XmlElement): void => {
    for (const child of element.children) {
      if (!isElement(child)) continue;
      if (child.local === 'table-row') {
        const cells = child.children.filter(isElement).flatMap((cell) => {
          if (cell.local !== 'table-cell' && cell.local !== 'covered-table-cell') return [];
          return Array<string>(repeat(cell, 'number-columns-repeated')).fill(cell.local === 'table-cell' ? blockText(cell) : '');
        });
        // Empty cells repeated to the sheet's edge are no columns of the table.
        while (cells.length > 0 && cells[cells.length - 1] === '') cells.pop();
        for (let copy = repeat(child, 'number-rows-repeated'); copy > 0; copy--) rows.push(cells);
      } else if (['table-header-rows', 'table-rows', 'table-row-group'].includes(child.local)) {
        visit(child);
      }
    }
  };
  visit(table);
  return rows;
}

/** Paragraphs, headings, lists, sections, frames and tables below an element, in document order. */
function writeBlocks(element: XmlElement, layout: TextLayout): void {
  for (const child of element.children) {
    if (!isElement(child) || SKIPPED.has(child.local)) continue;
    if (child.local === 'p' || child.local === 'h') layout.line(inlineText(child));
    else if (child.local === 'table') layout.table(tableRows(child));
    else writeBlocks(child, layout);
  }
}

/** A length such as "2.5cm", "1in" or "72pt", in centimetres (only compared with each other). */
function centimetres(length: string | undefined): number | undefined {
  const match = /^(-?[\d.]+)(cm|mm|in|pt|pc|px)?$/.exec(length ?? '');
  if (match === null) return undefined;
  const perUnit: Record<string, number> = { cm: 1, mm: 0.1, in: 2.54, pt: 2.54 / 72, pc: 2.54 / 6, px: 2.54 / 96 };
  const value = Number(match[1]) * (perUnit[match[2] ?? 'cm'] ?? 1);
  return Number.isFinite(value) ? value : undefined;
}

function writeSlideShapes(container: XmlElement, layout: TextLayout): void {
  const shapes: Placed<XmlElement>[] = [];
  for (const shape of container.children) {
    if (!isElement(shape) || SKIPPED.has(shape.local) || shape.local === 'notes') continue;
    const [x, y] = [centimetres(attribute(shape, 'x')), centimetres(attribute(shape, 'y'))];
    const kind = attribute(shape, 'class');
    if (kind === 'page-number' || kind === 'date-time' || kind === 'footer' || kind === 'header') continue;
    shapes.push({ item: shape, title: kind === 'title' || kind === 'subtitle', ...(x === undefined || y === undefined ? {} : { position: { x, y } }) });
  }
  for (const shape of readingOrder(shapes)) {
    if (shape.local === 'g') writeSlideShapes(shape, layout);
    else writeBlocks(shape, layout);
    layout.blank();
  }
}

function writePresentation(presentation: XmlElement, layout: TextLayout, label: string, limits: ConvertLimits): void {
  const slides = presentation.children.filter((child): child is XmlElement => isElement(child) && child.local === 'page');
  if (slides.length > limits.maxPages) {
    throw new ConversionError('too_many_pages', `${label} has ${slides.length} slides, more than ${limits.maxPages} (CONVERT_MAX_PAGES)`);
  }
  slides.forEach((slide, index) => {
    layout.blank();
    layout.page(index + 1);
    writeSlideShapes(slide, layout);
    const notes = childNamed(slide, 'notes');
    if (notes !== undefined) {
      layout.labelNext('Speaker notes:');
      writeSlideShapes(notes, layout);
      layout.dropLabel();
    }
  });
}

/** Reads an ODT or ODP (`label`) whose body is `office:<body>` (text, presentation). */
export async function convertOpenDocument(bytes: Uint8Array, label: string, body: 'text' | 'presentation', limits: ConvertLimits): Promise<Extracted> {
  const zip = await BoundedZip.open(bytes, label, limits);
  // An encrypted package keeps its manifest readable and says so there; content.xml is ciphertext.
  if ((await zip.readText('META-INF/manifest.xml'))?.includes('encryption-data') === true) {
    throw new ConversionError('encrypted', `${label} is password-protected`);
  }
  const content = await zip.readText('content.xml');
  if (content === undefined) throw new ConversionError('corrupt', `${label} has no content.xml`);
  const root = parseXml(content, `${label} content.xml`);
  const officeBody = childNamed(root, 'body');
  const main = officeBody === undefined ? undefined : childNamed(officeBody, body);
  if (main === undefined) throw new ConversionError('corrupt', `${label} content.xml has no office:${body}`);
  const layout = new TextLayout();
  if (body === 'presentation') writePresentation(main, layout, label, limits);
  else writeBlocks(main, layout);
  return layout.finish();
}
