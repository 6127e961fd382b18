// The encodings a business bucket holds, decided as browsers and editors decide them; each case
// made here from a text whose decoding is known.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert } from './index.js';
import { decodeText } from './text.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from './types.js';

const FRENCH = 'Le café est près de la gare. À Noël, les élèves mangent une bûche glacée et boivent du thé. Où êtes-vous allés cet été ? Chez ma sœur, à côté du marché, «on parle» – toujours.';
const JAPANESE = '日本語のテキストです。これはシフトJISで書かれた文書で、検索のためのテストに使います。東京の天気は晴れです。';

/** `text` in windows-1252 / ISO-8859-1, one byte a character (œ, «, », – are 1252's own bytes). */
function cp1252(text: string): Uint8Array {
  const extra: Record<string, number> = { œ: 0x9c, '–': 0x96, '’': 0x92, '“': 0x93, '”': 0x94, '€': 0x80 };
  return Uint8Array.from(Array.from(text, (char) => extra[char] ?? char.charCodeAt(0)));
}
function utf16(text: string, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(text.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < text.length; i++) view.setUint16(i * 2, text.charCodeAt(i), littleEndian);
  return bytes;
}
function utf32(text: string, littleEndian: boolean, mark: boolean): Uint8Array {
  const points = Array.from((mark ? '\ufeff' : '') + text, (char) => char.codePointAt(0) ?? 0);
  const bytes = new Uint8Array(points.length * 4);
  const view = new DataView(bytes.buffer);
  points.forEach((point, i) => {
    view.setUint32(i * 4, point, littleEndian);
  });
  return bytes;
}
/** windows-1251 for Cyrillic and the dash, one byte a character. */
class TextEncoderCp1251 {
  encode(text: string): Uint8Array {
    return Uint8Array.from(Array.from(text, (char) => {
      const code = char.charCodeAt(0);
      if (char === 'Ё') return 0xa8;
      if (char === 'ё') return 0xb8;
      if (char === '—') return 0x97;
      if (code >= 0x410 && code <= 0x44f) return code - 0x410 + 0xc0;
      return code;
    }));
  }
}
/** The Shift-JIS bytes of JAPANESE, as Python's 'shift_jis' codec writes them. */
const SHIFT_JIS = Buffer.from(
  '93fa967b8cea82cc8365834c8358836782c582b7814282b182ea82cd8356837483674a495382c58f9182a982ea82bd95b68f9182c581418c9f8df582cc82bd82df82cc83658358836782c98e6782a282dc82b78142938c8b9e82cc93568b4382cd90b082ea82c582b78142',
  'hex',
);

describe('decoding text', () => {
  test('windows-1252 HTML with no declared charset decodes as browsers do', async () => {
    const page = cp1252(`<html><body><p>${FRENCH} Prix : 12 €, “citation”.</p></body></html>`);
    const { text } = await convert(page, 'menu.html', DEFAULT_CONVERT_LIMITS);
    assert.match(text, /Le café est près de la gare/);
    assert.match(text, /12 €, “citation”/);
  });

  test('undeclared HTML in another code page chardet is sure of is not read as windows-1252', () => {
    const russian = 'Москва — столица России. В городе много музеев, театров и парков. Зимой здесь холодно, а летом тепло. ';
    const page = Buffer.concat([Buffer.from('<html><body><p>'), Buffer.from(new TextEncoderCp1251().encode(russian.repeat(4))), Buffer.from('</p></body></html>')]);
    assert.match(decodeText(page, { html: true }), /Москва — столица России/);
  });

  test('an HTML meta charset is honoured', () => {
    const page = cp1252(`<html><head><meta charset="iso-8859-1"></head><body>${FRENCH}</body></html>`);
    assert.match(decodeText(page, { html: true }), /Chez ma sœur/);
  });

  test('an XML declaration is honoured', () => {
    const xml = cp1252(`<?xml version="1.0" encoding="windows-1252"?><note>${FRENCH}</note>`);
    assert.match(decodeText(xml), /bûche glacée/);
  });

  test('ISO-8859-1 Markdown is detected and decoded', async () => {
    const { text } = await convert(cp1252(`# Menu\n\n${FRENCH}\n`), 'menu.md', DEFAULT_CONVERT_LIMITS);
    assert.match(text, /Où êtes-vous allés cet été/);
  });

  for (const littleEndian of [true, false]) {
    test(`UTF-16${littleEndian ? 'LE' : 'BE'} without a byte order mark is found from its zero bytes, not called binary`, async () => {
      const { text } = await convert(utf16(`${FRENCH}\n`, littleEndian), 'notes.txt', DEFAULT_CONVERT_LIMITS);
      assert.equal(text, `${FRENCH}\n`);
    });
  }

  test('Shift-JIS is detected and decoded', () => {
    assert.equal(decodeText(SHIFT_JIS), JAPANESE);
  });

  for (const [littleEndian, mark] of [
    [true, true],
    [false, true],
    [true, false],
  ] as const) {
    test(`UTF-32${littleEndian ? 'LE' : 'BE'} ${mark ? 'with' : 'without'} a byte order mark`, () => {
      assert.equal(decodeText(utf32(`${FRENCH} 𝄞`, littleEndian, mark)), `${FRENCH} 𝄞`);
    });
  }

  test('bytes no encoding makes text of are refused, naming the encodings tried', () => {
    // Every byte from 0x80 to 0xfe: C1 controls in every 8-bit code page, invalid in the others.
    const noise = Uint8Array.from({ length: 4096 }, (_, i) => 0x80 + ((i * 37) % 0x7f));
    assert.throws(
      () => decodeText(noise),
      (error: unknown) => error instanceof ConversionError && error.reason === 'encoding' && /tried utf-8, /.test(error.message),
    );
  });
});
