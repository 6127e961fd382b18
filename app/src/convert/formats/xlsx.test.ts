import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { splitText } from '../../split/splitter.js';
import { convert, ConversionError, DEFAULT_CONVERT_LIMITS } from '../index.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/formats/${name}`, import.meta.url));
const limits = DEFAULT_CONVERT_LIMITS;
const roughTokens = (text: string): number => Math.ceil(text.length / 4) + 2;

/** A minimal workbook: one sheet whose sheetData is `sheetData`, shared strings `strings`. */
async function makeXlsx(sheetData: string, strings: readonly string[] = [], dimension = 'A1'): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>');
  zip.file('_rels/.rels', '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>');
  zip.file('xl/workbook.xml', '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>');
  zip.file('xl/_rels/workbook.xml.rels', '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>');
  zip.file('xl/sharedStrings.xml', `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${strings.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`);
  zip.file('xl/worksheets/sheet1.xml', `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="${dimension}"/><sheetData>${sheetData}</sheetData></worksheet>`);
  return new Uint8Array(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
}

describe('xlsx', () => {
  test('every sheet is a section: its name, then its rows under the header, values as displayed', async () => {
    const result = await convert(fixture('ferries.xlsx'), 'ferries.xlsx', limits);
    assert.equal(result.type, 'xlsx');
    assert.deepEqual(result.sections?.map((section) => section.name), ['Summary', 'Ferry crossings']);
    const second = result.sections[1];
    assert.ok(second);
    assert.ok(result.text.slice(second.offset).startsWith('Ferry crossings\n\nRoute | Vessel | Crossing time | Fare | In service since\n'));
    // Dates through their formats (never serial numbers), numbers with their thousands and decimals.
    assert.match(result.text, /^Kilbrannan to Isle Tarsk \| Morwenna \| 47 minutes \| 1,234\.50 \| 1 April 2019$/m);
    assert.match(result.text, /^Report date \| 2024-03-15$/m);
    assert.equal(result.tables?.length, 2);
    for (const table of result.tables ?? []) {
      const lines = result.text.slice(table.start, table.end).split('\n');
      assert.equal(lines[0], result.text.slice(table.start, table.headerEnd));
      for (const line of lines) assert.match(line, / \| /);
    }
  });

  test("a question about a row of the second sheet finds the row, its header and its sheet in one chunk", async () => {
    const converted = await convert(fixture('ferries.xlsx'), 'ferries.xlsx', limits);
    const chunks = splitText(converted, { by: 'word', length: 150, overlap: 20, maxTokens: 256, countTokens: roughTokens, withinPages: true });
    const holding = chunks.filter((chunk) => chunk.content.includes('Kilbrannan to Isle Tarsk | Morwenna | 47 minutes'));
    assert.ok(holding.length >= 1);
    for (const chunk of holding) {
      assert.ok(chunk.content.startsWith('Route | Vessel | Crossing time | Fare | In service since\n'), chunk.content.slice(0, 200));
      assert.ok(chunk.repeatedHeader > 0, 'the fact is far enough down for its header to be repeated');
      assert.equal(chunk.section, 'Ferry crossings');
    }
  });

  test('empty rows and columns are left out; inline strings, booleans and errors are read', async () => {
    const xlsx = await makeXlsx(
      '<row r="2"><c r="B2" t="s"><v>0</v></c><c r="D2" t="s"><v>1</v></c></row>' +
        '<row r="3"><c r="B3"/><c r="C3"/></row>' +
        '<row r="5"><c r="B5" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c><c r="D5" t="b"><v>1</v></c></row>' +
        '<row r="6"><c r="D6" t="e"><v>#DIV/0!</v></c></row>',
      ['Name', 'Flag'],
    );
    const result = await convert(xlsx, 'small.xlsx', limits);
    assert.equal(result.text, 'Data\n\nName | Flag\ninline | TRUE\n | #DIV/0!');
  });

  test('a huge dimension claim and a million empty cells stay small', async () => {
    const empty = Array.from({ length: 1000 }, (_, i) => `<c r="A${i + 2}"/>`).join('');
    const rows = Array.from({ length: 1000 }, (_, i) => `<row r="${i + 2}">${empty}</row>`).join('');
    const xlsx = await makeXlsx(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="XFD1" t="s"><v>1</v></c><c r="ZZZZ1" t="s"><v>1</v></c></row>${rows}`, ['first', 'last'], 'A1:XFD1048576');
    const result = await convert(xlsx, 'sparse.xlsx', limits);
    assert.equal(result.text, 'Data\n\nfirst | last', 'cells past column XFD are not cells');
  });

  test('a truncated XLSX is corrupt, with a message that says so', async () => {
    const bytes = fixture('ferries.xlsx');
    await assert.rejects(convert(bytes.subarray(0, Math.floor(bytes.length / 2)), 'ferries.xlsx', limits), (error: unknown) => {
      assert.ok(error instanceof ConversionError);
      assert.equal(error.reason, 'corrupt');
      assert.match(error.message, /XLSX is not a readable ZIP archive/);
      return true;
    });
  });

  test('a password-protected XLSX (an OLE container) is refused as encrypted', async () => {
    const cfb = new Uint8Array(4096);
    cfb.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0, 3, 0, 0xfe, 0xff, 9, 0]);
    await assert.rejects(convert(cfb, 'secret.xlsx', limits), (error: unknown) => error instanceof ConversionError && error.reason === 'encrypted' && /password-protected/.test(error.message));
  });

  test('a .xls is refused as a legacy format with the fix', async () => {
    const cfb = new Uint8Array(4096);
    cfb.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3e, 0, 3, 0, 0xfe, 0xff, 9, 0]);
    await assert.rejects(convert(cfb, 'old.xls', limits), (error: unknown) => error instanceof ConversionError && error.reason === 'legacy_format' && /save it as \.xlsx/.test(error.message));
  });
});
