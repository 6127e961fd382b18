// The layout rules on text pieces placed by hand: what each rule decides, and that hostile pages
// (one endless line, very many pieces) go through in linear time.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { layoutPage, mendHyphen, pagesToText, type HyphenEvidence, type TextPiece } from './pdf-layout.js';

const CHAR = 5; // width of a character at size 10, roughly Helvetica's

function piece(text: string, x: number, y: number, size = 10): TextPiece {
  return { text, x, y, width: text.length * CHAR * (size / 10), size, horizontal: true, endsLine: false };
}

/** Lines from the top of the page down, `leading` apart; a line may be [text, x] to indent it. */
function lines(rows: readonly (string | readonly [string, number] | null)[], { top = 700, leading = 12, left = 50, size = 10 } = {}): TextPiece[] {
  return rows.flatMap((row, index) => {
    if (row === null) return [];
    const [text, x] = typeof row === 'string' ? [row, left] : row;
    return [piece(text, x, top - index * leading, size)];
  });
}

const textOf = (...pages: TextPiece[][]) => pagesToText(pages.map(layoutPage));
const none: HyphenEvidence = { compounds: new Set(), words: new Set() };

describe('mendHyphen', () => {
  const cases: [string, string, string, HyphenEvidence?][] = [
    ['an ef-', 'ficient machine', 'an efficient machine'],
    ['the quality re-', 'view board', 'the quality review board'],
    ['a well-', 'known fact', 'a well-known fact'],
    ['a self-', 'service till', 'a self-service till'],
    ['a valid X-', 'ray badge', 'a valid X-ray badge'],
    ['a state-of-the-', 'art course', 'a state-of-the-art course'],
    ['the COVID-', '19 rules', 'the COVID-19 rules'],
    ['the Anglo-', 'French treaty', 'the Anglo-French treaty'],
    ['the re\u00ad', 'view', 'the review'],
    // What the document writes elsewhere decides first.
    ['a cost-', 'effective pallet', 'a cost-effective pallet', { compounds: new Set(['cost-effective']), words: new Set() }],
    ['a cost-', 'effective pallet', 'a costeffective pallet'],
    ['their well-', 'ness plan', 'their wellness plan', { compounds: new Set(), words: new Set(['wellness']) }],
    ['their well-', 'ness plan', 'their well-ness plan'],
  ];
  for (const [line, next, joined, evidence] of cases) {
    test(`"${line}" + "${next}" → "${joined}"`, () => {
      assert.equal(mendHyphen(line, next, evidence ?? none), joined);
    });
  }
});

describe('lines into paragraphs', () => {
  test('wrapped lines join with a space; a gap starts a paragraph', () => {
    const [text] = textOf(lines([
      'The first paragraph runs over',
      'two lines of text.',
      null,
      'A second one after a gap, full',
      'width again.',
    ]));
    assert.equal(text, 'The first paragraph runs over two lines of text.\n\nA second one after a gap, full width again.');
  });

  test('an indented line starts a paragraph', () => {
    const [text] = textOf(lines([
      'Tide pools hold anemones and small',
      'crabs at low tide.',
      ['Volcanoes erupt when magma rises', 62],
      'through the crust.',
    ]));
    assert.equal(text, 'Tide pools hold anemones and small crabs at low tide.\n\nVolcanoes erupt when magma rises through the crust.');
  });

  test('a heading (larger type) is its own paragraph', () => {
    const pieces = [piece('Heat pumps', 50, 720, 16), ...lines(['A heat pump moves heat from the air', 'into the house.'], { top: 700 })];
    assert.equal(textOf(pieces)[0], 'Heat pumps\n\nA heat pump moves heat from the air into the house.');
  });

  test('list items stay on lines of their own', () => {
    const [text] = textOf(lines(['Bring the following things with you', '• a torch', '• a map of the caves', '• boots']));
    assert.equal(text, 'Bring the following things with you\n• a torch\n• a map of the caves\n• boots');
  });

  test('a short line with room for the next word was broken on purpose', () => {
    const [text] = textOf(lines(['Kestrel Valley water board', 'Annual report', 'The board met four times this year and', 'approved the budget.']));
    assert.equal(text, 'Kestrel Valley water board\nAnnual report\nThe board met four times this year and approved the budget.');
  });

  test('a page of rotated text keeps pdf.js order and line breaks', () => {
    const rotated: TextPiece[] = [
      { ...piece('sideways', 100, 100), horizontal: false, endsLine: true },
      { ...piece('text', 100, 150), horizontal: false },
    ];
    assert.deepEqual(textOf(rotated), ['sideways\ntext']);
  });

  test('a page without text gives an empty string', () => {
    assert.deepEqual(textOf([], lines(['only page two'])), ['', 'only page two']);
  });
});

describe('running headers and footers', () => {
  const page = (number: number, body: string, name = body.split(' ')[0]?.toLowerCase()) => [
    piece('ACME Corp — Confidential', 50, 800, 9),
    ...lines([body, `and more about ${name ?? ''}.`]),
    piece(`Page ${number} of 4`, 250, 40, 9),
  ];

  test('kept once, on the first page, at its top and bottom', () => {
    const texts = textOf(page(1, 'Alpha alpha alpha alpha alpha alpha'), page(2, 'Beta beta beta beta beta beta beta'), page(3, 'Gamma gamma gamma gamma gamma'), page(4, 'Delta delta delta delta delta delta'));
    assert.deepEqual(texts, [
      'ACME Corp — Confidential\n\nAlpha alpha alpha alpha alpha alpha and more about alpha.\n\nPage 1 of 4',
      'Beta beta beta beta beta beta beta and more about beta.',
      'Gamma gamma gamma gamma gamma and more about gamma.',
      'Delta delta delta delta delta delta and more about delta.',
    ]);
  });

  test('two pages sharing a first line prove nothing: both keep it', () => {
    const texts = textOf(page(1, 'Alpha alpha alpha'), page(2, 'Beta beta beta'));
    assert.ok(texts.every((text) => text.startsWith('ACME Corp — Confidential')));
  });

  test('a line on fewer than half of the pages is not running', () => {
    const plain = (body: string) => lines([body, `and more about ${body}.`]);
    const texts = textOf(page(1, 'One one one'), page(2, 'Two two two'), page(3, 'Three three three'), plain('Four'), plain('Five'), plain('Six'), plain('Seven'));
    assert.equal(texts.filter((text) => text.includes('ACME Corp')).length, 3);
  });
});

describe('hostile pages', () => {
  test('one endless word on one line, and 200,000 pieces on a page, are laid out (linear work)', () => {
    const endless = `${'a'.repeat(2_000_000)}-`;
    const [long] = textOf([piece(endless, 0, 700), piece('tail', 0, 688)]);
    assert.equal(long, `${'a'.repeat(2_000_000)}tail`);
    const many = Array.from({ length: 200_000 }, (_, i) => piece('w', (i % 100) * 6, 700 - Math.floor(i / 100) * 12));
    const [text] = textOf(many);
    assert.equal(text?.replace(/\s/g, '').length, 200_000);
  });
});
