import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeDocx, makePdf } from '../../../test/fixtures/documents.js';
import { convert, ConversionError, DEFAULT_CONVERT_LIMITS, type ConversionFailure } from './index.js';

const limits = DEFAULT_CONVERT_LIMITS;
// Built-ins pdfjs's core-js replaces on Node 20, as they are before any test loads pdfjs (convert
// imports it on the first PDF).
const builtIns = (): unknown[] => [
  Reflect.get(JSON, 'stringify'),
  Reflect.get(JSON, 'parse'),
  Reflect.get(Array.prototype, 'push'),
  Reflect.get(Function.prototype, 'toString'),
];
const nativeBuiltIns = builtIns();
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

async function rejectsWith(promise: Promise<unknown>, reason: ConversionFailure, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConversionError, `expected ConversionError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

describe('text', () => {
  test('UTF-8 text is kept as is', async () => {
    const result = await convert(utf8('Grüße aus Köln — 東京\n'), 'notes.txt', limits);
    assert.equal(result.text, 'Grüße aus Köln — 東京\n');
    assert.equal(result.contentType, 'text/plain');
    assert.equal(result.pages, undefined);
  });

  test('UTF-8 and UTF-16 byte order marks are honoured', async () => {
    const bom8 = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('héllo')]);
    assert.equal((await convert(bom8, 'a.txt', limits)).text, 'héllo');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('héllo wörld', 'utf16le')]);
    assert.equal((await convert(utf16, 'a.txt', limits)).text, 'héllo wörld');
  });

  test('Latin-1 text is recognised and decoded', async () => {
    const latin1 = Buffer.from(
      'Le cœur a ses raisons que la raison ne connaît point. Où est la gare? Très bien, merci beaucoup. Ça va très bien, à bientôt!',
      'latin1',
    );
    const result = await convert(latin1, 'fr.txt', limits);
    assert.match(result.text, /connaît point\. Où est la gare\? Très bien/);
  });

  test('binary garbage named .txt is refused as not text', async () => {
    const garbage = new Uint8Array(4096).map((_, i) => (i * 7919) % 256);
    await rejectsWith(convert(garbage, 'garbage.txt', limits), 'unsupported_type', /binary/);
  });

  test('an empty file is refused', async () => {
    await rejectsWith(convert(new Uint8Array(), 'empty.txt', limits), 'no_text', /empty/);
  });

  test('whitespace only is refused as no text', async () => {
    await rejectsWith(convert(utf8(' \n\n\t'), 'blank.md', limits), 'no_text');
  });
});

describe('markdown and html', () => {
  test('Markdown loses its syntax but keeps its words and structure', async () => {
    const md = '# Title\n\nSome **bold** text and a [link](https://example.com).\n\n- item one\n- item two\n';
    const { text, contentType } = await convert(utf8(md), 'doc.md', limits);
    assert.equal(contentType, 'text/markdown');
    assert.match(text, /^Title\n/);
    assert.match(text, /Some bold text and a link\./);
    assert.doesNotMatch(text, /\*\*|https:\/\/example\.com|\]\(/);
    assert.match(text, /item one\n.*item two/);
  });

  test('HTML keeps text and drops scripts, styles and tags', async () => {
    const html =
      '<!doctype html><html><head><title>T</title><style>p{color:red}</style>' +
      '<script>var secret = "do not index";</script></head><body><h1>Heading</h1>' +
      '<p>Hello <b>world</b>.</p><noscript>enable js</noscript></body></html>';
    const { text } = await convert(utf8(html), 'page.html', limits);
    assert.match(text, /Heading/);
    assert.match(text, /Hello world\./);
    assert.doesNotMatch(text, /secret|color:red|enable js|<|>/);
  });

  test('HTML without an extension is sniffed from its content', async () => {
    const result = await convert(utf8('<!DOCTYPE html><p>sniffed</p>'), 'no-extension', limits);
    assert.equal(result.type, 'html');
    assert.equal(result.text, 'sniffed');
  });
});

describe('pdf', () => {
  test("loading pdfjs leaves Node's built-ins in place (its core-js replaces some with slower copies)", async () => {
    await convert(await makePdf(['Built-ins stay native.']), 'natives.pdf', limits);
    assert.deepEqual(builtIns(), nativeBuiltIns);
    // What core-js adds and pdfjs needs on Node 20 stays.
    assert.equal(typeof Reflect.get(Promise, 'withResolvers'), 'function');
  });

  test('text per page with page starts', async () => {
    const pdf = await makePdf(['Volcanoes erupt when magma rises.', '', 'Tide pools hold anemones.']);
    const result = await convert(pdf, 'doc.pdf', limits);
    assert.equal(result.contentType, 'application/pdf');
    assert.match(result.text, /Volcanoes erupt when magma rises\./);
    const pages = result.pages ?? [];
    assert.deepEqual(pages.map((p) => p.page), [1, 3], 'blank page 2 has no text and no start');
    const third = pages[1];
    assert.ok(third);
    assert.equal(result.text.slice(third.offset), 'Tide pools hold anemones.');
  });

  test('a password-protected PDF is refused as encrypted', async () => {
    const pdf = await makePdf(['secret text'], { userPassword: 'hunter2' });
    await rejectsWith(convert(pdf, 'locked.pdf', limits), 'encrypted');
  });

  test('a truncated PDF is refused as corrupt', async () => {
    const pdf = await makePdf(['some text that will be cut off']);
    await rejectsWith(convert(pdf.subarray(0, Math.floor(pdf.length / 3)), 'cut.pdf', limits), 'corrupt');
  });

  test('a PDF with only blank pages has no text', async () => {
    await rejectsWith(convert(await makePdf(['', '', '']), 'blank.pdf', limits), 'no_text', /3 page/);
  });

  test('more pages than the limit is refused before reading them', async () => {
    const pdf = await makePdf(['a', 'b', 'c', 'd']);
    await rejectsWith(convert(pdf, 'long.pdf', { ...limits, maxPages: 3 }), 'too_many_pages', /4 pages/);
  });

  test('a .pdf without a PDF signature is corrupt, not text', async () => {
    await rejectsWith(convert(utf8('just text'), 'fake.pdf', limits), 'corrupt', /no PDF signature/);
  });
});

describe('docx', () => {
  test('paragraphs come out as text', async () => {
    const docx = await makeDocx([{ heading: 'Sourdough', paragraphs: ['Feed the starter daily.', 'Bake at 250 °C.'] }]);
    const result = await convert(docx, 'bread.docx', limits);
    assert.equal(result.type, 'docx');
    assert.match(result.text, /Sourdough[\s\S]*Feed the starter daily\.[\s\S]*Bake at 250 °C\./);
  });

  test('a DOCX that inflates past the limit is refused before inflating', async () => {
    const docx = await makeDocx([{ paragraphs: ['z'.repeat(300_000)] }]);
    await rejectsWith(convert(docx, 'bomb.docx', { ...limits, maxInflatedBytes: 100_000 }), 'too_large', /inflates past 100000 bytes/);
  });

  test('a broken ZIP named .docx is refused', async () => {
    const docx = await makeDocx([{ paragraphs: ['text'] }]);
    await rejectsWith(convert(docx.subarray(0, 200), 'broken.docx', limits), 'corrupt');
  });
});

describe('unsupported', () => {
  test('a GIF (no format reads it) is refused with its type named', async () => {
    const gif = new Uint8Array([...new TextEncoder().encode('GIF89a'), 1, 0, 1, 0, 0, 0, 0, ...new Uint8Array(64)]);
    await rejectsWith(convert(gif, 'picture.txt', limits), 'unsupported_type', /image\/gif/);
  });

  test('an unknown extension is refused with the supported list', async () => {
    await rejectsWith(convert(utf8('a,b\n1,2'), 'table.numbers', limits), 'unsupported_type', /supported: .*\.pdf/);
  });
});
