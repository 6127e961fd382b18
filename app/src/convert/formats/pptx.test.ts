// PPTX on a deck python-pptx made (test/fixtures/formats/deck.pptx, generate-office.py), and on
// hostile variants of it built here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS, type Converted } from '../types.js';
import { conversionFailure as failure } from '../../../../test/support/conversion.js';

const deck = readFileSync(new URL('../../../../test/fixtures/formats/deck.pptx', import.meta.url));

async function rezipped(bytes: Uint8Array, change: (zip: JSZip) => void): Promise<Buffer> {
  const zip = await JSZip.loadAsync(bytes);
  change(zip);
  return Buffer.from(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
}

function pageOf(converted: Converted, needle: string): number | undefined {
  const at = converted.text.indexOf(needle);
  assert.ok(at >= 0, `"${needle}" is in the text`);
  return converted.pages?.filter((page) => page.offset <= at).at(-1)?.page;
}

describe('PPTX', () => {
  test('slides are pages in presentation order, not file-name order', async () => {
    const converted = await convert(deck, 'deck.pptx', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'pptx');
    assert.deepEqual(converted.pages?.map((page) => page.page), [1, 2, 3, 4]);
    assert.equal(pageOf(converted, 'Coastal gauges review'), 1);
    // slide4.xml is listed second in ppt/presentation.xml, slide2.xml third.
    assert.equal(pageOf(converted, 'Upper box: method'), 2);
    assert.equal(pageOf(converted, 'Port Carrow | 4.71 metres | 12 March'), 3);
    assert.equal(pageOf(converted, 'Next survey in autumn'), 4);
  });

  test('shapes are read top to bottom, whatever order the slide stores them in', async () => {
    const { text } = await convert(deck, 'deck.pptx', DEFAULT_CONVERT_LIMITS);
    assert.ok(text.indexOf('Upper box: method') < text.indexOf('Lower box: gauges are read at low water'));
    assert.ok(text.indexOf('Coastal gauges review') < text.indexOf('Harbour office, spring survey'), 'the title comes first');
  });

  test('a table is one line per row under its header, with a TableSpan', async () => {
    const converted = await convert(deck, 'deck.pptx', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.tables?.length, 1);
    const [table] = converted.tables ?? [];
    assert.ok(table);
    assert.equal(converted.text.slice(table.start, table.headerEnd), 'Station | Highest reading | Logged on');
    assert.deepEqual(converted.text.slice(table.start, table.end).split('\n'), ['Station | Highest reading | Logged on', 'Port Carrow | 4.71 metres | 12 March', 'Ness Quay | 3.95 metres | 14 March']);
  });

  test("speaker notes follow their slide's text, on its page; the notes page's slide number is left out", async () => {
    const converted = await convert(deck, 'deck.pptx', DEFAULT_CONVERT_LIMITS);
    assert.equal(pageOf(converted, 'Speaker reminder: mention the float wells.'), 2);
    assert.equal(pageOf(converted, "Port Carrow's gauge was recalibrated before the survey."), 3);
    assert.match(converted.text, /Speaker notes:\nPort Carrow's gauge/);
    assert.equal(converted.text.match(/Speaker notes:/g)?.length, 2, 'only slides with notes have a notes label');
  });

  test("groups are read in reading order inside; mc:AlternateContent is read through its fallback", async () => {
    const shape = (text: string, y: number) =>
      `<p:sp><p:nvSpPr><p:cNvPr id="1" name="s"/><p:cNvSpPr/><p:nvPr/></p:nvSpPr><p:spPr><a:xfrm><a:off x="0" y="${y}"/></a:xfrm></p:spPr><p:txBody><a:p><a:r><a:t>${text}</a:t></a:r></a:p></p:txBody></p:sp>`;
    const slide = `<p:sld xmlns:p="p" xmlns:a="a" xmlns:mc="mc"><p:cSld><p:spTree>
      <p:grpSp><p:nvGrpSpPr><p:cNvPr id="2" name="g"/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr><a:xfrm><a:off x="0" y="500"/></a:xfrm></p:grpSpPr>${shape('group lower', 900)}${shape('group upper', 600)}</p:grpSp>
      <mc:AlternateContent><mc:Choice Requires="x">${shape('choice', 100)}</mc:Choice><mc:Fallback>${shape('fallback on top', 100)}</mc:Fallback></mc:AlternateContent>
    </p:spTree></p:cSld></p:sld>`;
    const bytes = await rezipped(deck, (zip) => {
      zip.file('ppt/slides/slide1.xml', slide);
    });
    const { text } = await convert(bytes, 'deck.pptx', DEFAULT_CONVERT_LIMITS);
    assert.ok(text.startsWith('fallback on top\n\ngroup upper\n\ngroup lower\n'), text);
    assert.doesNotMatch(text, /choice/);
  });

  test('more slides than CONVERT_MAX_PAGES is too_many_pages', async () => {
    const error = await failure(convert(deck, 'deck.pptx', { ...DEFAULT_CONVERT_LIMITS, maxPages: 3 }));
    assert.equal(error.reason, 'too_many_pages');
  });

  test('a zip bomb entry in a slide is too_large, stopped by BoundedZip', async () => {
    const bomb = await rezipped(deck, (zip) => {
      zip.file('ppt/slides/slide1.xml', `<p:sld xmlns:p="p"><p:cSld>${' '.repeat(3 * 1024 * 1024)}</p:cSld></p:sld>`);
    });
    const error = await failure(convert(bomb, 'deck.pptx', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /slide1\.xml inflates to more than 200 times/);
  });

  test('a deck past the inflate budget is too_large', async () => {
    const error = await failure(convert(deck, 'deck.pptx', { ...DEFAULT_CONVERT_LIMITS, maxInflatedBytes: 5_000 }));
    assert.equal(error.reason, 'too_large');
  });

  test('a truncated deck is corrupt', async () => {
    const error = await failure(convert(deck.subarray(0, Math.floor(deck.length / 2)), 'deck.pptx', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
  });

  test('a slide declaring entities (billion laughs, XXE) is corrupt, nothing expanded', async () => {
    const laughs = `<?xml version="1.0"?><!DOCTYPE p:sld [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY x SYSTEM "file:///etc/passwd">]>
<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>&c;&x;</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`;
    const hostile = await rezipped(deck, (zip) => {
      zip.file('ppt/slides/slide1.xml', laughs);
    });
    const error = await failure(convert(hostile, 'deck.pptx', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /slide1\.xml is not well-formed XML: .*undefined entity/);
  });

  test('a slide nesting group shapes past the depth cap is corrupt, not a stack overflow', async () => {
    const depth = 10_000;
    const nested = `<p:sld xmlns:p="p"><p:cSld><p:spTree>${'<p:grpSp>'.repeat(depth)}${'</p:grpSp>'.repeat(depth)}</p:spTree></p:cSld></p:sld>`;
    const hostile = await rezipped(deck, (zip) => {
      zip.file('ppt/slides/slide1.xml', nested);
    });
    const error = await failure(convert(hostile, 'deck.pptx', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /nests XML elements more than 256 deep/);
  });

  test('a password-protected PPTX (an OLE file holding an EncryptedPackage) is encrypted; another OLE file named .pptx is legacy_format', async () => {
    const ole = readFileSync(new URL('../../../../test/fixtures/formats/ole-sample.doc', import.meta.url));
    const encrypted = Buffer.concat([ole, Buffer.from('EncryptedPackage', 'utf16le')]);
    assert.equal((await failure(convert(encrypted, 'deck.pptx', DEFAULT_CONVERT_LIMITS))).reason, 'encrypted');
    assert.equal((await failure(convert(ole, 'deck.pptx', DEFAULT_CONVERT_LIMITS))).reason, 'legacy_format');
  });

  test('a ZIP named .pptx without ppt/presentation.xml is corrupt', async () => {
    const zip = new JSZip();
    zip.file('[Content_Types].xml', '<Types/>');
    zip.file('ppt/slides/slide1.xml', '<p:sld xmlns:p="p"/>');
    const bytes = Buffer.from(await zip.generateAsync({ type: 'uint8array' }));
    const error = await failure(convert(bytes, 'deck.pptx', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
  });
});
