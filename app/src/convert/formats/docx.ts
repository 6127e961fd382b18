// DOCX → text. The body via mammoth (the maintained DOCX reader for JavaScript; it follows the
// document's reading order): its HTML rather than its raw text, because the HTML keeps tables as
// tables, read by html.ts as rows under their header (raw text gives one cell per line), and
// carries footnotes and endnotes, as a list after the body. mammoth inflates the whole archive in
// memory, so the archive is first inflated as a stream under the inflate limits (convert/zip.ts),
// whatever its headers declare.
//
// mammoth leaves out headers and footers. They are read here from word/header*.xml and
// footer*.xml through BoundedZip, once per document: each part holds what repeats on every page
// it applies to, and a paragraph several parts share (the same footer in two sections, or on first
// and other pages) is kept once. Headers go before the body, footers after it.
import mammoth from 'mammoth';
import { StructuredText } from '../structured-text.js';
import { walkXml } from '../xml.js';
import { BoundedZip } from '../zip.js';
import { ConversionError, type Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';
import { htmlToExtracted } from './html.js';

/** The paragraphs of a header or footer part, as lines (field codes left out, their shown results kept). */
function paragraphsOf(xml: string): string[] {
  const paragraphs: string[] = [];
  let current: string[] | undefined;
  let inText = false;
  walkXml(xml, {
    open(name) {
      if (name === 'p') current = [];
      else if (name === 't') inText = true;
      else if ((name === 'tab' || name === 'br' || name === 'cr') && current !== undefined) current.push(' ');
    },
    close(name) {
      if (name === 't') inText = false;
      else if (name === 'p' && current !== undefined) {
        paragraphs.push(current.join('').replace(/\s+/g, ' ').trim());
        current = undefined;
      }
    },
    text(text) {
      // w:t only: w:instrText (a field's code, "PAGE") and w:delText (deleted text) are not what a reader sees.
      if (inText) current?.push(text);
    },
  });
  return paragraphs.filter((paragraph) => paragraph !== '');
}

/** Part names matching `kind` (header or footer), in their number's order: header1, header2, … */
function partsOf(zip: BoundedZip, kind: 'header' | 'footer'): string[] {
  const pattern = new RegExp(`^word/${kind}(\\d*)\\.xml$`);
  return zip.names
    .map((name) => ({ name, number: Number(pattern.exec(name)?.[1] ?? Number.NaN) }))
    .filter((part) => pattern.test(part.name))
    .sort((a, b) => (a.number || 0) - (b.number || 0))
    .map((part) => part.name);
}

/** Paragraphs of the header (or footer) parts, each kept once, in part order. */
async function repeatedParagraphs(zip: BoundedZip, kind: 'header' | 'footer', seen: Set<string>): Promise<string[]> {
  const kept: string[] = [];
  for (const name of partsOf(zip, kind)) {
    const xml = await zip.readText(name);
    for (const paragraph of xml === undefined ? [] : paragraphsOf(xml)) {
      if (seen.has(paragraph)) continue;
      seen.add(paragraph);
      kept.push(paragraph);
    }
  }
  return kept;
}

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  const zip = await BoundedZip.open(bytes, 'DOCX', limits);
  await zip.checkAll();
  let body: Extracted;
  try {
    const result = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) });
    body = htmlToExtracted(result.value);
  } catch (error) {
    throw new ConversionError('corrupt', `DOCX could not be read: ${String(error)}`, { cause: error });
  }
  const seen = new Set<string>();
  const headers = await repeatedParagraphs(zip, 'header', seen);
  const footers = await repeatedParagraphs(zip, 'footer', seen);
  const out = new StructuredText();
  for (const paragraph of headers) out.block(paragraph);
  out.append(body);
  for (const paragraph of footers) out.block(paragraph);
  return out.build();
}
