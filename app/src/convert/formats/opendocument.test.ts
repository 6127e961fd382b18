// ODT and ODP on files odfpy made (test/fixtures/formats/minutes.odt, briefing.odp;
// generate-office.py), and on variants built here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { conversionFailure as failure } from '../../../../test/support/conversion.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/formats/${name}`, import.meta.url));

async function rezipped(bytes: Uint8Array, change: (zip: JSZip) => void): Promise<Buffer> {
  const zip = await JSZip.loadAsync(bytes);
  change(zip);
  return Buffer.from(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
}

const ODT_HEAD = '<office:document-content xmlns:office="o" xmlns:text="t" xmlns:table="tb"><office:body><office:text>';
const ODT_TAIL = '</office:text></office:body></office:document-content>';

describe('ODT', () => {
  test('headings, paragraphs and list items are lines in document order; the table is rows under its header', async () => {
    const converted = await convert(fixture('minutes.odt'), 'minutes.odt', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'odt');
    const lines = converted.text.split('\n').filter((line) => line.length > 0);
    assert.deepEqual(lines, [
      'Minutes of the orchard cooperative',
      'The cooperative met in the packing shed on a wet Thursday.',
      'Pruning rota agreed',
      'New ladders ordered',
      'Variety | Crates | Cold store',
      'Discovery | 212 | bay 2',
      'Egremont Russet | 389 crates | bay 7',
      'The Egremont Russet harvest filled 389 crates, stored in cold store bay 7.',
    ]);
    const [table] = converted.tables ?? [];
    assert.ok(table);
    assert.equal(converted.text.slice(table.start, table.headerEnd), 'Variety | Crates | Cold store');
    assert.ok(converted.text.slice(table.start, table.end).endsWith('Egremont Russet | 389 crates | bay 7'));
  });

  test('spaces, tabs and footnotes are read where they are; tracked deletions are not text', async () => {
    const content = `${ODT_HEAD}<text:tracked-changes><text:changed-region><text:deletion><text:p>deleted words</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:p>one<text:s text:c="3"/>two<text:tab/>three<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>a footnote</text:p></text:note-body></text:note></text:p>${ODT_TAIL}`;
    const bytes = await rezipped(fixture('minutes.odt'), (zip) => zip.file('content.xml', content));
    const { text } = await convert(bytes, 'x.odt', DEFAULT_CONVERT_LIMITS);
    assert.equal(text, 'one two three (a footnote)', 'runs of spaces and tabs are one space');
  });

  test("columns repeated to a sheet's edge are no columns; repeats are capped", async () => {
    const content = `${ODT_HEAD}<table:table><table:table-row><table:table-cell><text:p>A</text:p></table:table-cell><table:table-cell table:number-columns-repeated="1000000"/></table:table-row>
<table:table-row table:number-rows-repeated="1000000"><table:table-cell><text:p>B</text:p></table:table-cell></table:table-row></table:table>${ODT_TAIL}`;
    const bytes = await rezipped(fixture('minutes.odt'), (zip) => zip.file('content.xml', content));
    const { text } = await convert(bytes, 'x.odt', DEFAULT_CONVERT_LIMITS);
    assert.equal(text, `A${'\nB'.repeat(100)}`);
  });

  test('a password-protected ODT is encrypted', async () => {
    const bytes = await rezipped(fixture('minutes.odt'), (zip) => {
      zip.file('META-INF/manifest.xml', '<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>');
      zip.file('content.xml', Buffer.from([0x8f, 0x12, 0x00, 0xfe]));
    });
    assert.equal((await failure(convert(bytes, 'x.odt', DEFAULT_CONVERT_LIMITS))).reason, 'encrypted');
  });

  test('an ODT without content.xml, or whose content.xml is not XML, is corrupt', async () => {
    const without = await rezipped(fixture('minutes.odt'), (zip) => zip.remove('content.xml'));
    assert.equal((await failure(convert(without, 'x.odt', DEFAULT_CONVERT_LIMITS))).reason, 'corrupt');
    const broken = await rezipped(fixture('minutes.odt'), (zip) => zip.file('content.xml', '<office:document-content><office:body>'));
    assert.equal((await failure(convert(broken, 'x.odt', DEFAULT_CONVERT_LIMITS))).reason, 'corrupt');
  });
});

describe('ODP', () => {
  test('slides are pages; frames are read top to bottom with the title first; notes follow their slide', async () => {
    const converted = await convert(fixture('briefing.odp'), 'briefing.odp', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'odp');
    assert.deepEqual(converted.pages?.map((page) => page.page), [1, 2]);
    const secondStart = converted.pages.find((page) => page.page === 2)?.offset;
    assert.ok(secondStart !== undefined);
    const second = converted.text.slice(secondStart);
    const lines = second.split('\n').filter((line) => line.length > 0);
    assert.deepEqual(lines, [
      'Sunday changes',
      'The last ferry to Inishmurr now leaves at 18:40 on Sundays.',
      'Lower frame: tickets stay valid',
      'Speaker notes:',
      'Remind crews about the earlier Sunday departure.',
    ]);
    assert.ok(converted.text.slice(0, secondStart).includes('Ferry timetable briefing'));
  });

  test('more slides than CONVERT_MAX_PAGES is too_many_pages', async () => {
    const error = await failure(convert(fixture('briefing.odp'), 'briefing.odp', { ...DEFAULT_CONVERT_LIMITS, maxPages: 1 }));
    assert.equal(error.reason, 'too_many_pages');
  });
});
