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

  describe('tables', () => {
    // A table as the converters write it: one row per line, cells joined by " | ", header first.
    const header = 'Reservoir | Month | Volume';
    const rows = Array.from({ length: 30 }, (_, i) => `Site${i} | Month${i % 12} | ${i}.5 million cubic metres`);
    const intro = 'Water held by the reservoirs of the valley, month by month.\n\n';
    const outro = '\n\nFigures are provisional until the annual report.';
    const tableText = [header, ...rows].join('\n');
    const text = `${intro}${tableText}${outro}`;
    const table = { start: intro.length, headerEnd: intro.length + header.length, end: intro.length + tableText.length };
    const isRow = (line: string) => line === header || rows.includes(line);

    /** Every chunk holding rows: whole rows only, its header above them; offsets keep their meaning. */
    const assertTableChunks = (chunks: readonly { content: string; splitIdxStart: number; repeatedHeader: number }[], source = text) => {
      for (const chunk of chunks) {
        const own = chunk.content.slice(chunk.repeatedHeader);
        assert.equal(source.slice(chunk.splitIdxStart).startsWith(own), true, 'split_idx_start is where the chunk\'s own text starts');
        const lines = chunk.content.split('\n').map((line) => line.trim()).filter((line) => line !== '');
        const rowLines = lines.filter((line) => line.includes(' | '));
        for (const line of rowLines) assert.ok(isRow(line), `a whole row, not "${line}"`);
        const withRows = lines.some((line) => rows.includes(line));
        if (withRows) {
          const firstRow = lines.findIndex((line) => rows.includes(line));
          assert.ok(lines.slice(0, firstRow).includes(header), `the header is above the rows:\n${chunk.content}`);
        }
        if (chunk.repeatedHeader > 0) assert.equal(chunk.content.slice(0, chunk.repeatedHeader), `${header}\n`);
      }
    };

    test('rows are never cut, and every chunk holding rows starts with the header (by word)', () => {
      const chunks = splitText({ text, tables: [table] }, options({ length: 40, overlap: 5 }));
      assert.ok(chunks.length > 3, `${chunks.length} chunks`);
      assertTableChunks(chunks);
      const middle = chunks.filter((chunk) => chunk.repeatedHeader > 0);
      assert.ok(middle.length >= 2, 'chunks that start among the rows repeat the header');
      for (const chunk of middle) assert.ok(chunk.content.startsWith(`${header}\n`));
      // Every row is in some chunk.
      for (const row of rows) assert.ok(chunks.some((chunk) => chunk.content.split('\n').some((line) => line.trim() === row)), row);
    });

    test('a question about a row finds the row with its header in the same chunk', () => {
      const chunks = splitText({ text, tables: [table] }, options({ length: 30, overlap: 0 }));
      const holding = chunks.filter((chunk) => chunk.content.includes('Site23 | Month11 | 23.5 million'));
      assert.equal(holding.length, 1);
      assert.ok(holding[0]?.content.startsWith(`${header}\n`), holding[0]?.content);
    });

    test('the token guard cuts a table between rows and keeps the header on each piece', () => {
      // One window holds the whole table; only the guard can cut it.
      const chunks = splitText({ text, tables: [table] }, options({ by: 'passage', length: 3, overlap: 0, maxTokens: 64 }));
      assert.ok(chunks.length > 4);
      for (const chunk of chunks) assert.ok(roughTokens(chunk.content) <= 64, `${roughTokens(chunk.content)} tokens`);
      assertTableChunks(chunks);
      assert.ok(chunks.filter((chunk) => chunk.repeatedHeader > 0).length >= 3);
      // Without the header copies, the chunks are the text again: nothing lost, nothing doubled.
      assert.equal(chunks.map((chunk) => chunk.content.slice(chunk.repeatedHeader)).join(''), text);
    });

    test('by passage a table is one passage: the prose around it stays in its chunk', () => {
      const small = `Intro line.\n\n${header}\n${rows[0] ?? ''}\n${rows[1] ?? ''}\n\nAfter.`;
      const start = small.indexOf(header);
      const smallTable = { start, headerEnd: start + header.length, end: small.indexOf('\n\nAfter') };
      const chunks = splitText({ text: small, tables: [smallTable] }, options({ by: 'passage', length: 3, overlap: 0 }));
      assert.deepEqual(chunks.map((chunk) => chunk.content), [small]);
      assert.equal(chunks[0]?.repeatedHeader, 0);
    });

    test('a row longer than the limit is cut at words, each piece under its header', () => {
      const longCell = Array.from({ length: 120 }, (_, i) => `note${i}`).join(' ');
      const longRow = `Site99 | Month1 | ${longCell}`;
      const longText = `${header}\n${rows[0] ?? ''}\n${longRow}\n${rows[1] ?? ''}`;
      const longTable = { start: 0, headerEnd: header.length, end: longText.length };
      const chunks = splitText({ text: longText, tables: [longTable] }, options({ length: 1000, overlap: 0, maxTokens: 64 }));
      for (const chunk of chunks) assert.ok(roughTokens(chunk.content) <= 64, `${roughTokens(chunk.content)} tokens`);
      const pieces = chunks.filter((chunk) => chunk.content.includes('note'));
      assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
      for (const piece of pieces) assert.ok(piece.content.startsWith(`${header}\n`), piece.content);
      assert.equal(chunks.map((chunk) => chunk.content.slice(chunk.repeatedHeader)).join(''), longText);
    });

    test('a header too long to repeat is left out, and the rows still fit', () => {
      const wideHeader = Array.from({ length: 40 }, (_, i) => `column${i}`).join(' | ');
      const wideText = [wideHeader, ...rows].join('\n');
      const wideTable = { start: 0, headerEnd: wideHeader.length, end: wideText.length };
      const chunks = splitText({ text: wideText, tables: [wideTable] }, options({ length: 20, overlap: 0, maxTokens: 64 }));
      for (const chunk of chunks) assert.ok(roughTokens(chunk.content) <= 64, `${roughTokens(chunk.content)} tokens`);
      for (const chunk of chunks) assert.equal(chunk.repeatedHeader, 0);
      assert.equal(chunks.map((chunk) => chunk.content).join(''), wideText);
    });

    test('prose without tables splits exactly as before', () => {
      const prose = Array.from({ length: 103 }, (_, i) => `w${i}`).join(' ');
      assert.deepEqual(splitText({ text: prose, tables: [] }, options({ length: 10, overlap: 2 })), splitText({ text: prose }, options({ length: 10, overlap: 2 })));
    });
  });

  test('each chunk records the section its own text starts in', () => {
    const text = 'Budget\n\nalpha beta gamma\n\nStaff\n\ndelta epsilon zeta';
    const sections = [
      { name: 'Budget', offset: 0 },
      { name: 'Staff', offset: text.indexOf('Staff') },
    ];
    const chunks = splitText({ text, sections }, options({ length: 2, overlap: 0 }));
    assert.deepEqual(
      chunks.map((c) => [c.content.trim(), c.section]),
      [
        ['Budget alpha'.replace(' ', '\n\n'), 'Budget'],
        ['beta gamma', 'Budget'],
        ['Staff\n\ndelta', 'Staff'],
        ['epsilon zeta', 'Staff'],
      ],
    );
    assert.equal(splitText({ text }, options()).some((c) => 'section' in c), false, 'no sections, no section field');
  });
});
