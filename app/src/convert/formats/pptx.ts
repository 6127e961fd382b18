// PPTX → text: each slide's shapes in reading order (convert/reading-order.ts), tables as rows
// under their header, then the slide's speaker notes; each slide is a page, numbered in the
// presentation's order (ppt/presentation.xml's slide list and its relationships), which is not
// the order of the file names. No maintained JavaScript PPTX reader keeps slides, notes and
// tables apart, so the parts are read here, through BoundedZip, and parsed with saxes
// (convert/xml-tree.ts: no DTD entities, nesting capped).
import path from 'node:path/posix';
import { readingOrder, type Placed } from '../reading-order.js';
import { TextLayout } from '../text-layout.js';
import { ConversionError, type Extracted } from '../types.js';
import { attribute, childNamed, childrenNamed, descendantsNamed, isElement, parseXml, type XmlElement } from '../xml-tree.js';
import { BoundedZip } from '../zip.js';
import type { ConvertContext } from '../registry.js';
import { SAVE_AS_PPTX } from './ppt.js';

const LABEL = 'PPTX';
const NOTES_SLIDE = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide';
/** Placeholders that repeat on every slide or only picture the slide (notes pages). */
const SKIPPED_PLACEHOLDERS = new Set(['sldNum', 'dt', 'ftr', 'hdr', 'sldImg']);
const TITLE_PLACEHOLDERS = new Set(['title', 'ctrTitle', 'subTitle']);

async function readPart(zip: BoundedZip, name: string): Promise<XmlElement | undefined> {
  const xml = await zip.readText(name);
  return xml === undefined ? undefined : parseXml(xml, `${LABEL} part ${name}`);
}

/** A part's relationships: id → target part name (external targets left out). */
async function relationships(zip: BoundedZip, part: string): Promise<Map<string, { target: string; type: string }>> {
  const relsName = path.join(path.dirname(part), '_rels', `${path.basename(part)}.rels`);
  const rels = await readPart(zip, relsName);
  const found = new Map<string, { target: string; type: string }>();
  for (const rel of rels === undefined ? [] : childrenNamed(rels, 'Relationship')) {
    const [id, target, type] = [attribute(rel, 'Id'), attribute(rel, 'Target'), attribute(rel, 'Type') ?? ''];
    if (id === undefined || target === undefined || attribute(rel, 'TargetMode') === 'External') continue;
    // Targets are relative to the part's folder, or absolute from the package root.
    const resolved = target.startsWith('/') ? target.slice(1) : path.normalize(path.join(path.dirname(part), target));
    found.set(id, { target: resolved, type });
  }
  return found;
}

/** The slides' part names in presentation order. */
async function slideParts(zip: BoundedZip): Promise<string[]> {
  const presentationName = 'ppt/presentation.xml';
  const presentation = await readPart(zip, presentationName);
  if (presentation === undefined) throw new ConversionError('corrupt', `${LABEL} has no ${presentationName}`);
  const rels = await relationships(zip, presentationName);
  const list = childNamed(presentation, 'sldIdLst');
  return (list === undefined ? [] : childrenNamed(list, 'sldId')).map((slide) => {
    // The relationship id is r:id (prefixed); the unprefixed id is the slide's number.
    const relationshipId = Object.entries(slide.attributes).find(([name]) => name.endsWith(':id') && !name.startsWith('xmlns'))?.[1];
    const target = rels.get(relationshipId ?? '')?.target;
    if (target === undefined) throw new ConversionError('corrupt', `${LABEL} lists a slide whose relationship is missing`);
    return target;
  });
}

/** A paragraph's text: runs, fields and line breaks. */
function paragraphText(paragraph: XmlElement): string {
  let text = '';
  for (const child of paragraph.children) {
    if (!isElement(child)) continue;
    if (child.local === 'r' || child.local === 'fld') text += childNamed(child, 't')?.children.filter((part) => typeof part === 'string').join('') ?? '';
    else if (child.local === 'br') text += '\n';
  }
  return text;
}

function textBodyLines(body: XmlElement): string[] {
  return childrenNamed(body, 'p').map(paragraphText);
}

/** The shape's non-visual properties (p:nvSpPr, p:nvGrpSpPr, p:nvGraphicFramePr), where a placeholder is named. */
const nonVisual = (shape: XmlElement): XmlElement | undefined => shape.children.find((child): child is XmlElement => isElement(child) && child.local.startsWith('nv'));

function placeholderType(shape: XmlElement): string | undefined {
  const properties = nonVisual(shape);
  const ph = properties === undefined ? undefined : descendantsNamed(properties, 'ph')[0];
  if (ph === undefined) return undefined;
  return attribute(ph, 'type') ?? 'body';
}

/** The offset of a shape's a:xfrm: in p:spPr (shapes), p:grpSpPr (groups) or p:xfrm itself (graphic frames). */
function position(shape: XmlElement): { x: number; y: number } | undefined {
  const holder = shape.local === 'graphicFrame' ? shape : childNamed(shape, shape.local === 'grpSp' ? 'grpSpPr' : 'spPr');
  const xfrm = holder === undefined ? undefined : childNamed(holder, 'xfrm');
  const offset = xfrm === undefined ? undefined : childNamed(xfrm, 'off');
  if (offset === undefined) return undefined;
  const [x, y] = [Number(attribute(offset, 'x')), Number(attribute(offset, 'y'))];
  return Number.isFinite(x) && Number.isFinite(y) ? { x, y } : undefined;
}

/**
 * A shape tree's shapes, with markup-compatibility wrappers (mc:AlternateContent, which newer
 * PowerPoint writes around shapes older readers may not know) replaced by their fallback.
 */
function shapesOf(tree: XmlElement): XmlElement[] {
  return tree.children.filter(isElement).flatMap((child) => {
    if (child.local !== 'AlternateContent') return [child];
    const chosen = childNamed(child, 'Fallback') ?? childNamed(child, 'Choice');
    return chosen === undefined ? [] : chosen.children.filter(isElement);
  });
}

function tableRows(table: XmlElement): string[][] {
  return childrenNamed(table, 'tr').map((row) =>
    childrenNamed(row, 'tc').map((cell) => {
      const body = childNamed(cell, 'txBody');
      return body === undefined ? '' : textBodyLines(body).join(' ');
    }),
  );
}

/** Writes a shape tree's shapes in reading order; groups are read as their own small slides. */
function writeShapes(tree: XmlElement, layout: TextLayout): void {
  const shapes: Placed<XmlElement>[] = [];
  for (const shape of shapesOf(tree)) {
    if (!['sp', 'grpSp', 'graphicFrame'].includes(shape.local)) continue;
    const type = placeholderType(shape);
    if (type !== undefined && SKIPPED_PLACEHOLDERS.has(type)) continue;
    const where = position(shape);
    shapes.push({ item: shape, title: type !== undefined && TITLE_PLACEHOLDERS.has(type), ...(where === undefined ? {} : { position: where }) });
  }
  for (const shape of readingOrder(shapes)) {
    if (shape.local === 'grpSp') {
      writeShapes(shape, layout);
    } else if (shape.local === 'graphicFrame') {
      for (const table of descendantsNamed(shape, 'tbl')) layout.table(tableRows(table));
    } else {
      const body = childNamed(shape, 'txBody');
      if (body !== undefined) for (const line of textBodyLines(body)) layout.line(line);
      layout.blank();
    }
  }
}

function shapeTree(part: XmlElement): XmlElement | undefined {
  const slide = childNamed(part, 'cSld');
  return slide === undefined ? undefined : childNamed(slide, 'spTree');
}

/** An OLE compound file's signature: what a password-protected PPTX is (its ZIP sits encrypted inside). */
const OLE_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
/** The stream name that an encrypted OOXML package's compound file holds, as its directory stores it (UTF-16LE). */
const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  if (OLE_SIGNATURE.every((byte, index) => bytes[index] === byte)) {
    if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(ENCRYPTED_PACKAGE)) {
      throw new ConversionError('encrypted', `${LABEL} is password-protected`);
    }
    throw new ConversionError('legacy_format', `named .pptx but an OLE compound file (a legacy PowerPoint file?): ${SAVE_AS_PPTX}`);
  }
  const zip = await BoundedZip.open(bytes, LABEL, limits);
  const slides = await slideParts(zip);
  if (slides.length > limits.maxPages) {
    throw new ConversionError('too_many_pages', `${LABEL} has ${slides.length} slides, more than ${limits.maxPages} (CONVERT_MAX_PAGES)`);
  }
  const layout = new TextLayout();
  for (const [index, slideName] of slides.entries()) {
    layout.blank();
    layout.page(index + 1);
    const slide = await readPart(zip, slideName);
    if (slide === undefined) throw new ConversionError('corrupt', `${LABEL} lists slide ${slideName}, which the archive lacks`);
    const tree = shapeTree(slide);
    if (tree !== undefined) writeShapes(tree, layout);
    const notesName = [...(await relationships(zip, slideName)).values()].find((rel) => rel.type === NOTES_SLIDE)?.target;
    const notes = notesName === undefined ? undefined : await readPart(zip, notesName);
    const notesTree = notes === undefined ? undefined : shapeTree(notes);
    if (notesTree !== undefined) {
      layout.blank();
      layout.labelNext('Speaker notes:');
      writeShapes(notesTree, layout);
      layout.dropLabel();
    }
  }
  return layout.finish();
}
