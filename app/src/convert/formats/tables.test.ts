// Tables as rows in the converters that are not spreadsheets' own: ODS, CSV, TSV, HTML, Markdown
// and DOCX. XLSX has its own file (xlsx.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { AlignmentType, Document, Footer, FootnoteReferenceRun, Header, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';
import { convert, ConversionError, DEFAULT_CONVERT_LIMITS, type Extracted } from '../index.js';
import { detectSeparator } from '../delimited.js';
import { MAX_EXPANDED_CELLS } from './ods.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/formats/${name}`, import.meta.url));
const limits = DEFAULT_CONVERT_LIMITS;
const utf8 = (text: string) => new TextEncoder().encode(text);

/** The text of each table, and its header row. */
function tablesOf(result: Extracted): { header: string; rows: string[] }[] {
  return (result.tables ?? []).map((table) => ({
    header: result.text.slice(table.start, table.headerEnd),
    rows: result.text.slice(table.start, table.end).split('\n'),
  }));
}

describe('ods', () => {
  test('a sheet is a section with its rows; a million repeated empty rows are not written', async () => {
    const result = await convert(fixture('tides.ods'), 'tides.ods', limits);
    assert.equal(result.type, 'ods');
    assert.deepEqual(result.sections, [{ name: 'Tide gauges', offset: 0 }]);
    assert.equal(result.text, 'Tide gauges\n\nGauge | Spring high water | Neap high water\nHarrow Quay | 3.10 metres | 2.05 metres\nPort Ellery | 4.62 metres | 3.01 metres\nGull Strand | 2.75 metres | 1.90 metres');
    assert.deepEqual(tablesOf(result)[0]?.header, 'Gauge | Spring high water | Neap high water');
  });

  test('cells with text repeated past the cap are refused, not expanded', async () => {
    const zip = new JSZip();
    zip.file('mimetype', 'application/vnd.oasis.opendocument.spreadsheet');
    zip.file('META-INF/manifest.xml', '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>');
    const repeated = Math.ceil(MAX_EXPANDED_CELLS / 16_384) + 10;
    zip.file(
      'content.xml',
      '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>' +
        `<table:table table:name="Bomb"><table:table-row table:number-rows-repeated="${repeated}"><table:table-cell table:number-columns-repeated="999999"><text:p>x</text:p></table:table-cell></table:table-row></table:table>` +
        '</office:spreadsheet></office:body></office:document-content>',
    );
    const bytes = new Uint8Array(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
    await assert.rejects(convert(bytes, 'bomb.ods', limits), (error: unknown) => error instanceof ConversionError && error.reason === 'too_large' && /repeats cells/.test(error.message));
  });
});

describe('csv and tsv', () => {
  test('a semicolon CSV is one table; quoted separators and line breaks stay in their cell', async () => {
    const result = await convert(fixture('orchards.csv'), 'orchards.csv', limits);
    assert.equal(result.type, 'csv');
    assert.deepEqual(tablesOf(result)[0]?.rows, [
      'Orchard | Trees | Variety | Note',
      'Ashcombe Rise | 140 pear trees | Conference | planted 1998',
      'Bramley Hollow | 312 apple trees | Bramley | grafted; partly replanted',
      'Quince End | 58 quince trees | Vranja | a note over two lines',
    ]);
  });

  test('the separator is the one the rows agree on', () => {
    assert.equal(detectSeparator('a,b,c\n1,2,3\n"x, y",5,6'), ',');
    assert.equal(detectSeparator('name;price\n"Smith, J.";3,50\nDoe;4,10'), ';');
    assert.equal(detectSeparator('a\tb\n1\t2'), '\t');
    assert.equal(detectSeparator('just words'), ',');
  });

  test('a TSV is one table; empty rows and columns are left out', async () => {
    const result = await convert(utf8('Kiln\t\tFuel\n\n\t\t\nMill Row\t\twood\n'), 'k.tsv', limits);
    assert.equal(result.type, 'tsv');
    assert.equal(result.text, 'Kiln | Fuel\nMill Row | wood');
    assert.deepEqual(result.tables, [{ start: 0, headerEnd: 'Kiln | Fuel'.length, end: result.text.length }]);
  });

  test('a CSV in windows-1252 is decoded before it is parsed', async () => {
    const result = await convert(Buffer.from('Stadt,Einwohner\nK\xf6ln,1084831\nM\xfcnchen,1512491\n', 'latin1'), 'cities.csv', limits);
    assert.match(result.text, /^Köln \| 1084831$/m);
  });
});

describe('html and markdown tables', () => {
  test('rows on lines with their cells in order, the header first, as a TableSpan', async () => {
    const html = '<html><body><p>Timetable</p><table><thead><tr><th>Tram</th><th>First departure</th></tr></thead><tbody><tr><td>Vogelweide</td><td>05:12</td></tr><tr><td>Nord<br>Ring</td><td>06:00</td></tr></tbody></table><p>Valid from May.</p></body></html>';
    const result = await convert(utf8(html), 'trams.html', limits);
    assert.equal(result.text, 'Timetable\n\nTram | First departure\nVogelweide | 05:12\nNord Ring | 06:00\n\nValid from May.');
    assert.deepEqual(tablesOf(result), [{ header: 'Tram | First departure', rows: ['Tram | First departure', 'Vogelweide | 05:12', 'Nord Ring | 06:00'] }]);
  });

  test('spanned cells keep the columns in line; a table at the very start is offset right', async () => {
    const html = '<table><tr><th>Site</th><th>Year</th><th>Count</th></tr><tr><td rowspan="2">Osterholz</td><td colspan="2">closed</td></tr><tr><td>2024</td><td>31</td></tr></table>';
    const result = await convert(utf8(html), 'span.html', limits);
    assert.deepEqual(tablesOf(result)[0]?.rows, ['Site | Year | Count', 'Osterholz | closed', 'Osterholz | 2024 | 31']);
    assert.equal(result.tables?.[0]?.start, 0);
  });

  test('a page\'s own private-use marks cannot forge a table', async () => {
    const result = await convert(utf8('<p>a \uE000 b \uE001 c</p>'), 'marks.html', limits);
    assert.equal(result.tables, undefined);
    assert.equal(result.text.includes('\uE000'), false);
  });

  test('a Markdown table is rows under its header', async () => {
    const result = await convert(utf8('# Hives\n\n| Site | Inspection |\n|---|---|\n| Osterholz | every nine days |\n\nDone.'), 'hives.md', limits);
    assert.deepEqual(tablesOf(result), [{ header: 'Site | Inspection', rows: ['Site | Inspection', 'Osterholz | every nine days'] }]);
  });
});

describe('docx', () => {
  test('tables as rows; header, footer and footnote once', async () => {
    const result = await convert(fixture('harbour-minutes.docx'), 'harbour-minutes.docx', limits);
    const count = (needle: string) => result.text.split(needle).length - 1;
    assert.equal(count('Harbour Board of Inverkeld - Minutes'), 1, 'header');
    assert.equal(count('Circulated by the Board secretary, Ailsa Dunmore'), 1, 'footer');
    assert.equal(count('Soundings by the survey launch Petrel'), 1, 'footnote');
    assert.ok(result.text.indexOf('Harbour Board of Inverkeld') < result.text.indexOf('Dredging report'), 'headers before the body');
    assert.ok(result.text.lastIndexOf('Ailsa Dunmore') > result.text.indexOf('Petrel'), 'footers after the footnotes');
    assert.deepEqual(tablesOf(result), [
      { header: 'Pier | Depth after dredging | Month', rows: ['Pier | Depth after dredging | Month', 'Pier 1 | 5.0 metres | January', 'Pier 2 | 5.8 metres | February', 'Pier 3 | 6.5 metres | March'] },
    ]);
  });

  test('the same header in several sections and an endnote-free footnote: kept once each', async () => {
    const header = () => new Header({ children: [new Paragraph({ text: 'Osterholz apiary log', alignment: AlignmentType.CENTER })] });
    const footer = () => new Footer({ children: [new Paragraph('Confidential to the beekeepers')] });
    const document = new Document({
      footnotes: { 1: { children: [new Paragraph('Counted at dusk.')] } },
      sections: [
        { headers: { default: header(), first: header() }, footers: { default: footer() }, children: [new Paragraph({ children: [new TextRun('Hive count: 14'), new FootnoteReferenceRun(1)] })] },
        {
          headers: { default: header() },
          footers: { default: footer() },
          children: [
            new Table({
              rows: [
                new TableRow({ children: [new TableCell({ children: [new Paragraph('Hive')] }), new TableCell({ children: [new Paragraph('Queen'), new Paragraph('marked')] })] }),
                new TableRow({ children: [new TableCell({ children: [new Paragraph('H7')] }), new TableCell({ children: [new Paragraph('yes')] })] }),
              ],
            }),
          ],
        },
      ],
    });
    const bytes = new Uint8Array(await Packer.toBuffer(document));
    const names = Object.keys((await JSZip.loadAsync(bytes)).files).filter((name) => /word\/header\d*\.xml/.test(name));
    assert.ok(names.length >= 3, `several header parts: ${names.join(' ')}`);
    const result = await convert(bytes, 'log.docx', limits);
    assert.equal(result.text.split('Osterholz apiary log').length - 1, 1);
    assert.equal(result.text.split('Confidential to the beekeepers').length - 1, 1);
    assert.match(result.text, /Counted at dusk\./);
    assert.deepEqual(tablesOf(result)[0]?.rows, ['Hive | Queen marked', 'H7 | yes']);
  });
});
