// RTF on a letter written by hand (test/fixtures/formats/letter.rtf) and on fragments that each
// exercise one rule of the reader.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { convert } from '../index.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from '../types.js';
import { rtfToText } from './rtf.js';

const read = (rtf: string): string => rtfToText(Buffer.from(rtf, 'latin1'));

function refusal(action: () => unknown): ConversionError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof ConversionError, `expected a ConversionError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('RTF', () => {
  test('the letter: header, body with its footnote and field result, table rows, a Cyrillic font; no font names, colours, info or picture data', async () => {
    const converted = await convert(readFileSync(new URL('../../../../test/fixtures/formats/letter.rtf', import.meta.url)), 'letter.rtf', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'rtf');
    assert.equal(
      converted.text,
      [
        'Parish of St Wendreda',
        'Dear Churchwardens,',
        '',
        'The bell foundry at Whäddon recast the tenor bell in June; it now weighs 1,126 kilograms (Weighed at the foundry, naïvely without its clapper.) and sounds a clear D\u202fflat.',
        'the foundry\u2019s notes are attached.',
        'Bell | Weight',
        'Tenor | 1,126 kg',
        'Здон',
        'Yours faithfully,',
        'The Bell Ringers',
      ].join('\n'),
    );
  });

  test("\\uN takes the place of its fallback: one character by default, \\ucN of them, none with \\uc0", () => {
    assert.equal(read('{\\rtf1 a\\u8364?b}'), 'a€b');
    assert.equal(read('{\\rtf1 a\\uc2\\u8364 EUb}'), 'a€b');
    assert.equal(read("{\\rtf1 a\\uc0\\u8364 b}"), 'a€b');
    assert.equal(read("{\\rtf1 a\\u8364\\'80b}"), 'a€b', 'a \\\'hh fallback counts as one');
    assert.equal(read('{\\rtf1 \\u-10179?\\u-8704?}'), '\u{1f600}', 'negative values and surrogate pairs');
  });

  test("\\'hh bytes are read in the document's code page, or in the font's charset", () => {
    assert.equal(read("{\\rtf1\\ansi\\ansicpg1252 \\'93quoted\\'94 \\'80}"), '\u201cquoted\u201d €', 'windows-1252, not ISO-8859-1');
    assert.equal(read("{\\rtf1\\ansi\\ansicpg1251 \\'cf\\'f0\\'e8\\'e2\\'e5\\'f2}"), 'Привет');
    assert.equal(read("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f1\\fcharset128 MS Mincho;}}{\\f1 \\'93\\'fa\\'96\\'7b}}"), '日本', 'Shift-JIS pairs decode together');
  });

  test('destinations: \\* ones unknown to the reader, font and colour tables, info, pictures, binary data and field instructions are skipped', () => {
    assert.equal(read('{\\rtf1{\\*\\unknowndest secret}visible}'), 'visible');
    assert.equal(read('{\\rtf1{\\info{\\title T}{\\author A}}{\\colortbl;\\red1;}{\\stylesheet{\\s1 Heading;}}body}'), 'body');
    assert.equal(read('{\\rtf1{\\pict\\pngblip 0a0b0c}{\\*\\shppict{\\pict 00}}text}'), 'text');
    assert.equal(read('{\\rtf1 a\\bin3 {}}b}'), 'ab', '\\bin skips its bytes, braces included');
    assert.equal(read('{\\rtf1{\\field{\\*\\fldinst HYPERLINK "x"}{\\fldrslt shown}}}'), 'shown');
    assert.equal(read('{\\rtf1 \\{braces\\} and \\\\ backslash}'), '{braces} and \\ backslash');
  });

  test('deeply nested groups are refused, not a stack overflow', () => {
    const depth = 1_000_000;
    const error = refusal(() => read(`{\\rtf1 ${'{'.repeat(depth)}x${'}'.repeat(depth)}}`));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /nests groups more than 256 deep/);
    assert.equal(read(`{\\rtf1 ${'{'.repeat(200)}deep${'}'.repeat(200)}}`), 'deep', 'nesting below the cap is read');
  });

  test('bytes that are no RTF are corrupt', () => {
    assert.equal(refusal(() => read('plain text')).reason, 'corrupt');
  });
});
