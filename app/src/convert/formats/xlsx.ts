// XLSX → text: each sheet a section (its name, then its rows as a table: convert/structured-text.ts).
//
// Read here from the sheet XML rather than with a spreadsheet library: the npm `xlsx` package
// (SheetJS 0.18.5) is stale, with known CVEs, and exceljs inflates the ZIP itself (JSZip) and
// builds every cell as an object. The parts are few and plainly specified (ECMA-376 part 1,
// §18.3 sheets, §18.4 shared strings, §18.8 styles), so they are inflated through BoundedZip and
// read as streams of XML events (convert/xml.ts): memory grows with the cells that hold
// something, never with the sheet's claimed dimensions.
//
// Values as Excel displays them: numbers and dates through their cell's number format by numfmt
// (maintained, Excel's format-code semantics, pure JS). Excel's two locale-dependent built-in
// formats (14: short date, 22: short date and time) are written as ISO 8601 (2024-03-15), which
// reads the same in every locale; other date formats as the file says. Formulas give their
// cached value; booleans TRUE/FALSE; errors as shown (#DIV/0!).
import path from 'node:path/posix';
import { format, getFormatFromId, isDateFormat } from 'numfmt';
import { StructuredText, type SparseRow } from '../structured-text.js';
import { attribute, walkXml } from '../xml.js';
import { BoundedZip } from '../zip.js';
import { ConversionError, type Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';

/** Excel's last column (XFD); a cell reference past it is not a cell any spreadsheet shows. */
export const MAX_COLUMNS = 16_384;

/** The start of an OLE compound file: what a password-protected XLSX is (the ZIP is encrypted inside). */
const CFB_MAGIC = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

const ISO_FORMATS: Readonly<Record<number, string>> = { 14: 'yyyy-mm-dd', 22: 'yyyy-mm-dd hh:mm' };

/** Days between the 1904 and 1900 date systems' day 0, counting Excel's 1900 leap day. */
const DAYS_1900_TO_1904 = 1462;

interface SheetRef {
  readonly name: string;
  readonly part: string;
}

interface Workbook {
  readonly sheets: readonly SheetRef[];
  readonly date1904: boolean;
  readonly sharedStrings?: string;
  readonly styles?: string;
}

/** Relationship targets by id, resolved to entry names (relative to the part's folder, or absolute). */
function relationships(xml: string, folder: string): Map<string, { target: string; type: string }> {
  const found = new Map<string, { target: string; type: string }>();
  walkXml(xml, {
    open(name, attributes) {
      const id = attribute(attributes, 'Id');
      const target = attribute(attributes, 'Target');
      if (name !== 'Relationship' || id === undefined || target === undefined || attribute(attributes, 'TargetMode') === 'External') return;
      const resolved = target.startsWith('/') ? target.slice(1) : path.normalize(path.join(folder, target));
      found.set(id, { target: resolved, type: attribute(attributes, 'Type') ?? '' });
    },
  });
  return found;
}

async function readWorkbook(zip: BoundedZip): Promise<Workbook> {
  const rootRels = await zip.readText('_rels/.rels');
  const main = rootRels === undefined ? undefined : [...relationships(rootRels, '').values()].find((rel) => rel.type.endsWith('/officeDocument'));
  const workbookPart = main?.target ?? 'xl/workbook.xml';
  const workbookXml = await zip.readText(workbookPart);
  if (workbookXml === undefined) throw new ConversionError('corrupt', `XLSX has no workbook part (${workbookPart})`);
  const folder = path.dirname(workbookPart);
  const relsXml = await zip.readText(path.join(folder, '_rels', `${path.basename(workbookPart)}.rels`));
  const rels = relsXml === undefined ? new Map<string, { target: string; type: string }>() : relationships(relsXml, folder);
  const sheets: SheetRef[] = [];
  let date1904 = false;
  walkXml(workbookXml, {
    open(name, attributes) {
      if (name === 'workbookPr') date1904 = ['1', 'true'].includes(attribute(attributes, 'date1904') ?? '');
      if (name !== 'sheet') return;
      const target = rels.get(attribute(attributes, 'id') ?? '')?.target;
      if (target !== undefined) sheets.push({ name: attribute(attributes, 'name') ?? `Sheet${sheets.length + 1}`, part: target });
    },
  });
  const byType = (suffix: string) => [...rels.values()].find((rel) => rel.type.endsWith(suffix))?.target;
  const sharedStrings = byType('/sharedStrings') ?? (zip.has(`${folder}/sharedStrings.xml`) ? `${folder}/sharedStrings.xml` : undefined);
  const styles = byType('/styles') ?? (zip.has(`${folder}/styles.xml`) ? `${folder}/styles.xml` : undefined);
  return { sheets, date1904, ...(sharedStrings === undefined ? {} : { sharedStrings }), ...(styles === undefined ? {} : { styles }) };
}

/**
 * Rich text's visible runs: the `t` elements of a shared string or inline string, without the
 * phonetic guides (`rPh`) that East Asian files carry beside the text.
 */
class RichText {
  private depthInPhonetic = 0;
  private inText = false;
  private parts: string[] = [];

  open(name: string): void {
    if (name === 'rPh') this.depthInPhonetic += 1;
    else if (name === 't' && this.depthInPhonetic === 0) this.inText = true;
  }

  close(name: string): void {
    if (name === 'rPh') this.depthInPhonetic -= 1;
    else if (name === 't') this.inText = false;
  }

  text(text: string): void {
    if (this.inText) this.parts.push(text);
  }

  take(): string {
    const text = this.parts.join('');
    this.parts = [];
    return text;
  }
}

function readSharedStrings(xml: string): string[] {
  const strings: string[] = [];
  const rich = new RichText();
  walkXml(xml, {
    open(name) {
      if (name === 'si') rich.take();
      rich.open(name);
    },
    close(name) {
      rich.close(name);
      if (name === 'si') strings.push(rich.take());
    },
    text(text) {
      rich.text(text);
    },
  });
  return strings;
}

/** The number format code of each cell style (cellXfs, by index). */
function readCellFormats(xml: string): string[] {
  const codes = new Map<number, string>();
  const formats: string[] = [];
  let inCellXfs = false;
  walkXml(xml, {
    open(name, attributes) {
      if (name === 'numFmt') {
        const id = Number(attribute(attributes, 'numFmtId'));
        const code = attribute(attributes, 'formatCode');
        if (Number.isInteger(id) && code !== undefined) codes.set(id, code);
      } else if (name === 'cellXfs') {
        inCellXfs = true;
      } else if (name === 'xf' && inCellXfs) {
        const id = Number(attribute(attributes, 'numFmtId') ?? 0);
        formats.push(ISO_FORMATS[id] ?? codes.get(id) ?? builtInFormat(id));
      }
    },
    close(name) {
      if (name === 'cellXfs') inCellXfs = false;
    },
  });
  return formats;
}

function builtInFormat(id: number): string {
  try {
    return getFormatFromId(id) || 'General';
  } catch {
    return 'General';
  }
}

/** A number as its format displays it; the plain number when the format cannot be applied. */
function displayNumber(raw: string, code: string, date1904: boolean): string {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) return raw;
  try {
    const isDate = isDateFormat(code);
    return format(code, isDate && date1904 ? value + DAYS_1900_TO_1904 : value, { throws: true, nbsp: false });
  } catch {
    return format('General', value);
  }
}

/** Column number (from 0) of a cell reference such as "BC12"; undefined when it has no letters. */
function columnOf(reference: string): number | undefined {
  let column = 0;
  let letters = 0;
  for (const char of reference) {
    const code = char.toUpperCase().charCodeAt(0);
    if (code < 65 || code > 90) break;
    column = column * 26 + (code - 64);
    letters += 1;
    if (column > MAX_COLUMNS) return MAX_COLUMNS;
  }
  return letters === 0 ? undefined : column - 1;
}

interface SheetContext {
  readonly sharedStrings: readonly string[];
  readonly formats: readonly string[];
  readonly date1904: boolean;
}

/** A sheet's rows, as the cells that hold something; cells past MAX_COLUMNS are not read. */
function readSheet(xml: string, context: SheetContext): SparseRow[] {
  const rows: SparseRow[] = [];
  let row: [number, string][] | undefined;
  let cell: { column: number; type: string; style: number } | undefined;
  let nextColumn = 0;
  let inValue = false;
  let value: string[] = [];
  const rich = new RichText();
  const finishCell = () => {
    if (cell === undefined || row === undefined) return;
    const raw = value.join('');
    const inline = rich.take();
    let text: string;
    switch (cell.type) {
      case 's':
        text = context.sharedStrings[Number(raw)] ?? '';
        break;
      case 'inlineStr':
        text = inline;
        break;
      case 'b':
        text = raw === '1' ? 'TRUE' : raw === '0' ? 'FALSE' : raw;
        break;
      case 'str':
      case 'e':
      case 'd':
        text = raw;
        break;
      default:
        text = displayNumber(raw, context.formats[cell.style] ?? 'General', context.date1904);
    }
    if (text.trim() !== '' && cell.column < MAX_COLUMNS) row.push([cell.column, text]);
    cell = undefined;
  };
  walkXml(xml, {
    open(name, attributes) {
      if (name === 'row') {
        row = [];
        nextColumn = 0;
      } else if (name === 'c' && row !== undefined) {
        const column = columnOf(attribute(attributes, 'r') ?? '') ?? nextColumn;
        nextColumn = column + 1;
        cell = { column, type: attribute(attributes, 't') ?? 'n', style: Number(attribute(attributes, 's') ?? 0) };
        value = [];
      } else if (name === 'v' && cell !== undefined) {
        inValue = true;
      } else if (cell !== undefined) {
        rich.open(name);
      }
    },
    close(name) {
      if (name === 'v') inValue = false;
      else if (name === 'c') finishCell();
      else if (name === 'row' && row !== undefined) {
        if (row.length > 0) rows.push(row.sort((a, b) => a[0] - b[0]));
        row = undefined;
      } else rich.close(name);
    },
    text(text) {
      if (inValue) value.push(text);
      else if (cell !== undefined) rich.text(text);
    },
  });
  return rows;
}

function isCompoundFile(bytes: Uint8Array): boolean {
  return CFB_MAGIC.every((byte, i) => bytes[i] === byte);
}

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  if (isCompoundFile(bytes)) {
    throw new ConversionError('encrypted', 'XLSX is password-protected (an encrypted workbook is an OLE container, not a ZIP); save it without a password to index it');
  }
  const zip = await BoundedZip.open(bytes, 'XLSX', limits);
  const workbook = await readWorkbook(zip);
  if (workbook.sheets.length === 0) throw new ConversionError('corrupt', 'XLSX workbook lists no sheets');
  const sharedXml = workbook.sharedStrings === undefined ? undefined : await zip.readText(workbook.sharedStrings);
  const stylesXml = workbook.styles === undefined ? undefined : await zip.readText(workbook.styles);
  const context: SheetContext = {
    sharedStrings: sharedXml === undefined ? [] : readSharedStrings(sharedXml),
    formats: stylesXml === undefined ? [] : readCellFormats(stylesXml),
    date1904: workbook.date1904,
  };
  const out = new StructuredText();
  for (const sheet of workbook.sheets) {
    // Chartsheets and dialog sheets have no cells; a sheet part the workbook names but the ZIP lacks is damage.
    const xml = await zip.readText(sheet.part);
    if (xml === undefined) throw new ConversionError('corrupt', `XLSX sheet "${sheet.name}" names a part the file lacks (${sheet.part})`);
    const rows = readSheet(xml, context);
    if (rows.length === 0) continue;
    out.section(sheet.name);
    out.sparseTable(rows);
  }
  return out.build();
}
