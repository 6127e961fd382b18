import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert, ConversionError } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { MAX_XML_DEPTH } from './xml.js';

const limits = DEFAULT_CONVERT_LIMITS;
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const reasonOf = (promise: Promise<unknown>) => promise.then(() => 'converted', (error: unknown) => (error instanceof ConversionError ? `${error.reason}: ${error.message}` : String(error)));

describe('xml', () => {
  test('text of the elements, a line each; tags, attributes and declarations gone', async () => {
    const xml = '<?xml version="1.0"?>\n<!-- a comment -->\n<book id="7"><title>Moss &amp; lichen</title><chapter><p>Grows <![CDATA[on <stone>]]> slowly.</p></chapter><empty/></book>';
    const { text, type } = await convert(utf8(xml), 'book.xml', limits);
    assert.equal(type, 'xml');
    assert.equal(text, 'Moss & lichen\nGrows on <stone> slowly.');
  });

  test('an extensionless file with an XML declaration is read as XML', async () => {
    assert.equal((await convert(utf8('<?xml version="1.0"?><a>b</a>'), 'data', limits)).type, 'xml');
  });

  test('entities declared in a DTD are never expanded: no entity bomb', async () => {
    const lol = ['<!ENTITY lol0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`)].join('');
    const { text } = await convert(utf8(`<?xml version="1.0"?><!DOCTYPE bomb [${lol}]><bomb>start &lol9; end</bomb>`), 'bomb.xml', limits);
    assert.equal(text, 'start end');
  });

  test('external entities are never read (XXE)', async () => {
    const xml = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]><x>before &secret; after</x>';
    const { text } = await convert(utf8(xml), 'xxe.xml', limits);
    assert.equal(text, 'before after');
  });

  test(`nesting past ${MAX_XML_DEPTH} levels is refused with the reason`, async () => {
    const deep = '<a>'.repeat(100_000) + 'x' + '</a>'.repeat(100_000);
    assert.match(await reasonOf(convert(utf8(deep), 'deep.xml', limits)), /^too_large: elements nest deeper than 256 levels/);
  });

  test('XML that is not well-formed is refused as corrupt', async () => {
    assert.match(await reasonOf(convert(utf8('<a><b>text</a>'), 'bad.xml', limits)), /^corrupt: not well-formed XML/);
  });
});
