import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert, ConversionError } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { MAX_JSON_DEPTH, nestingDepth } from './json.js';

const limits = DEFAULT_CONVERT_LIMITS;
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const reasonOf = (promise: Promise<unknown>) => promise.then(() => 'converted', (error: unknown) => (error instanceof ConversionError ? `${error.reason}: ${error.message}` : String(error)));

describe('json', () => {
  test('values after their key paths; no braces, quotes or commas', async () => {
    const json = JSON.stringify({ title: 'Field guide', author: { name: 'Ada "A." Moss', born: 1901 }, tags: ['moss', 'lichen'], empty: null, ok: true });
    const { text, type } = await convert(utf8(json), 'guide.json', limits);
    assert.equal(type, 'json');
    assert.equal(text, 'title: Field guide\nauthor.name: Ada "A." Moss\nauthor.born: 1901\ntags: moss, lichen\nok: true');
  });

  test('records in an array are set apart by a blank line', async () => {
    const { text } = await convert(utf8('[{"name":"a","n":1},{"name":"b","n":2}]'), 'list.json', limits);
    assert.equal(text, 'name: a\nn: 1\n\nname: b\nn: 2');
  });

  test(`nesting past ${MAX_JSON_DEPTH} levels is refused before parsing, with the reason`, async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.match(await reasonOf(convert(utf8(deep), 'deep.json', limits)), /^too_large: the file nests deeper than 100 levels/);
    const justUnder = '{"a":'.repeat(MAX_JSON_DEPTH - 1) + '{"fact":"kept"}' + '}'.repeat(MAX_JSON_DEPTH - 1);
    assert.match((await convert(utf8(justUnder), 'ok.json', limits)).text, /\.fact: kept$/);
  });

  test('brackets inside strings do not count as nesting', () => {
    assert.equal(nestingDepth('{"a":"[[[[\\"[[["}', 10), 1);
  });

  test('invalid JSON is refused as corrupt', async () => {
    assert.match(await reasonOf(convert(utf8('{"a": 1,,}'), 'bad.json', limits)), /^corrupt: the file is not valid JSON/);
  });
});

describe('ndjson', () => {
  test('one record per line, blank lines between', async () => {
    const { text, type } = await convert(utf8('{"id":1,"msg":"first"}\n\n{"id":2,"msg":"second"}\n'), 'log.ndjson', limits);
    assert.equal(type, 'ndjson');
    assert.equal(text, 'id: 1\nmsg: first\n\nid: 2\nmsg: second');
    assert.equal((await convert(utf8('{"a":1}\n'), 'log.jsonl', limits)).type, 'ndjson');
  });

  test('a bad line is named', async () => {
    assert.match(await reasonOf(convert(utf8('{"a":1}\n{oops}\n'), 'log.ndjson', limits)), /^corrupt: line 2 is not valid JSON/);
    assert.match(await reasonOf(convert(utf8(`{"a":1}\n${'['.repeat(500)}${']'.repeat(500)}\n`), 'log.ndjson', limits)), /^too_large: line 2 nests deeper/);
  });
});
