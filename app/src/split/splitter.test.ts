import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHARS_PER_TOKEN, splitText, type SplitOptions } from './splitter.js';

// A stand-in tokenizer for pure splitting logic: one token per 4 characters plus [CLS] and [SEP].
// The real tokenizer is exercised in test/integration.
const roughTokens = (text: string): number => Math.ceil(text.length / 4) + 2;
const options = (overrides: Partial<SplitOptions> = {}): SplitOptions => ({
  by: 'word',
  length: 4,
  overlap: 1,
  maxTokens: 512,
  countTokens: roughTokens,
  ...overrides,
});

describe('splitText', () => {
  test('packs words with overlap and records ids and start offsets', () => {
    const text = 'one two three four five six seven';
    const chunks = splitText({ text }, options());
    assert.deepEqual(
      chunks.map((c) => [c.splitId, c.content.trim(), c.splitIdxStart]),
      [
        [0, 'one two three four', 0],
        [1, 'four five six seven', text.indexOf('four')],
      ],
    );
    for (const chunk of chunks) assert.equal(text.slice(chunk.splitIdxStart).startsWith(chunk.content), true);
  });

  test('without overlap every character of the text is in exactly one chunk', () => {
    const text = Array.from({ length: 103 }, (_, i) => `w${i}`).join(' ');
    const chunks = splitText({ text }, options({ length: 10, overlap: 0 }));
    assert.equal(chunks.map((c) => c.content).join(''), text);
    assert.equal(chunks.length, 11);
  });

  test('splits by sentence', () => {
    const text = 'Dr. Smith arrived. It rained all day! Did it stop? Yes.';
    const chunks = splitText({ text }, options({ by: 'sentence', length: 2, overlap: 0 }));
    assert.deepEqual(
      chunks.map((c) => c.content.trim()),
      ['Dr. Smith arrived. It rained all day!', 'Did it stop? Yes.'],
    );
  });

  test('splits by passage on blank lines', () => {
    const text = 'First para\nstill first.\n\nSecond para.\n  \nThird para.';
    const chunks = splitText({ text }, options({ by: 'passage', length: 1, overlap: 0 }));
    assert.deepEqual(chunks.map((c) => c.content.trim()), ['First para\nstill first.', 'Second para.', 'Third para.']);
  });

  test('assigns the page each chunk starts on', () => {
    const text = 'alpha beta gamma delta epsilon zeta';
    const pages = [
      { page: 1, offset: 0 },
      { page: 2, offset: text.indexOf('gamma') },
      { page: 5, offset: text.indexOf('epsilon') },
    ];
    const chunks = splitText({ text, pages }, options({ length: 2, overlap: 0 }));
    assert.deepEqual(chunks.map((c) => c.pageNumber), [1, 2, 5]);
  });

  describe('page ranges', () => {
    // Three short pages, separated as the PDF converter separates them.
    const text = 'one two three\n\nfour five\n\nsix seven eight nine';
    const pages = [
      { page: 1, offset: 0 },
      { page: 2, offset: text.indexOf('four') },
      { page: 3, offset: text.indexOf('six') },
    ];

    test('a chunk that runs across pages records its first and last page', () => {
      const chunks = splitText({ text, pages }, options({ length: 6, overlap: 0 }));
      assert.deepEqual(
        chunks.map((c) => [c.content.trim().split(/\s+/)[0], c.pageNumber, c.pageEnd]),
        [
          ['one', 1, 3],
          ['seven', 3, 3],
        ],
      );
    });

    test('trailing whitespace before the next page does not count as that page', () => {
      const chunks = splitText({ text, pages }, options({ length: 3, overlap: 0 }));
      const [first] = chunks;
      assert.ok(first);
      assert.equal(first.content, 'one two three\n\n');
      assert.deepEqual([first.pageNumber, first.pageEnd], [1, 1]);
    });

    test('withinPages never lets a chunk cross a page boundary', () => {
      const chunks = splitText({ text, pages }, options({ length: 6, overlap: 1, withinPages: true }));
      assert.deepEqual(
        chunks.map((c) => [c.content.trim(), c.pageNumber, c.pageEnd]),
        [
          ['one two three', 1, 1],
          ['four five', 2, 2],
          ['six seven eight nine', 3, 3],
        ],
      );
      assert.deepEqual(chunks.map((c) => c.splitId), [0, 1, 2], 'ids run on across pages');
      for (const chunk of chunks) assert.equal(text.slice(chunk.splitIdxStart).startsWith(chunk.content), true);
    });

    test('withinPages changes nothing for text without pages', () => {
      const plain = 'one two three four five six seven';
      assert.deepEqual(splitText({ text: plain }, options({ withinPages: true })), splitText({ text: plain }, options()));
    });
  });

  test('no chunk exceeds maxTokens, and no text is dropped by the guard', () => {
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = splitText({ text }, options({ length: 200, overlap: 0, maxTokens: 64 }));
    assert.ok(chunks.length > 2);
    for (const chunk of chunks) {
      assert.ok(roughTokens(chunk.content) <= 64, `${roughTokens(chunk.content)} tokens`);
      assert.equal(chunk.tokens, roughTokens(chunk.content), 'each chunk carries its measured token count');
    }
    assert.equal(chunks.map((c) => c.content).join(''), text);
    assert.deepEqual(chunks.map((c) => c.splitId), chunks.map((_, i) => i));
  });

  test('a single run of characters longer than the limit is cut, not truncated', () => {
    const blob = 'x'.repeat(1000);
    const chunks = splitText({ text: blob }, options({ maxTokens: 40 }));
    assert.equal(chunks.map((c) => c.content).join(''), blob);
    for (const chunk of chunks) assert.ok(roughTokens(chunk.content) <= 40);
  });

  test('a run of characters the tokenizer counts as one token is still cut to the character cap', () => {
    // What a WordPiece tokenizer does with a base64 blob: one [UNK] for the whole word.
    const unkTokens = (text: string) => text.split(/\s+/).filter(Boolean).length + 2;
    const blob = 'QUJD'.repeat(50_000);
    const text = `header ${blob} footer`;
    const chunks = splitText({ text }, options({ length: 150, overlap: 0, maxTokens: 64, countTokens: unkTokens }));
    assert.equal(chunks.map((c) => c.content).join(''), text, 'nothing dropped');
    for (const chunk of chunks) assert.ok(chunk.content.length <= 64 * CHARS_PER_TOKEN, `${chunk.content.length} characters`);
    assert.ok(chunks.length >= Math.floor(blob.length / (64 * CHARS_PER_TOKEN)));
    for (const chunk of chunks) assert.equal(chunk.tokens, unkTokens(chunk.content));
  });

  test('never cuts a surrogate pair in half', () => {
    const text = '😀'.repeat(300);
    const chunks = splitText({ text }, options({ maxTokens: 20 }));
    for (const chunk of chunks) assert.doesNotMatch(chunk.content, /^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    assert.equal(chunks.map((c) => c.content).join(''), text);
  });

  test('empty and whitespace-only text gives no chunks', () => {
    assert.deepEqual(splitText({ text: '' }, options()), []);
    assert.deepEqual(splitText({ text: ' \n\t ' }, options()), []);
  });

  test('rejects overlap not smaller than length', () => {
    assert.throws(() => splitText({ text: 'a b' }, options({ length: 2, overlap: 2 })), /overlap/);
  });
});
