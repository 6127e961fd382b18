// Images through OCR, on scanned pages of known text (test/fixtures/formats/generate-ocr.py), and
// hostile images: a bomb declaring a huge canvas is refused from its header, before decoding.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { characterErrorRate } from '../../../../test/fixtures/scans.js';
import { convert } from '../index.js';
import { stopOcrEngines } from '../ocr/engine.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from '../types.js';

after(stopOcrEngines);

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/${name}`, import.meta.url));

async function failure(promise: Promise<unknown>): Promise<ConversionError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ConversionError, `expected a ConversionError, got ${String(error)}`);
  return error;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring width × height greyscale pixels, with a few bytes of pixel data. */
function declaredPng(width: number, height: number): Uint8Array {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

describe('images through OCR', () => {
  for (const page of [1, 2, 3, 4]) {
    test(`scanned page ${page} reads with a character error rate under 2 %`, async () => {
      const converted = await convert(fixture(`ocr/page-${page}.jpg`), `page-${page}.jpg`, DEFAULT_CONVERT_LIMITS);
      const reference = fixture(`ocr/page-${page}.txt`).toString('utf8');
      const rate = characterErrorRate(reference, converted.text);
      assert.ok(rate < 0.02, `CER ${rate.toFixed(4)}:\n${converted.text}`);
      assert.equal(converted.type, 'jpeg');
      assert.deepEqual(converted.pages, [{ page: 1, offset: 0 }]);
      assert.equal(converted.ocrPages?.length, 1);
      const [first] = converted.ocrPages ?? [];
      const confidence = first?.confidence ?? 0;
      assert.ok(confidence > 0.5 && confidence <= 1, `confidence ${confidence}`);
    });
  }

  for (const language of ['deu', 'fra', 'spa']) {
    test(`a ${language} page read with OCR_LANGUAGES=${language} keeps its accented letters (CER under 3 %)`, async () => {
      const image = fixture(`ocr/page-${language}.jpg`);
      const reference = fixture(`ocr/page-${language}.txt`).toString('utf8');
      const converted = await convert(image, `page-${language}.jpg`, { ...DEFAULT_CONVERT_LIMITS, ocrLanguages: [language] });
      const rate = characterErrorRate(reference, converted.text);
      assert.ok(rate < 0.03, `CER ${rate.toFixed(4)}:\n${converted.text}`);
    });
  }

  test('the language data is what reads the letters: the German page read as English loses them', async () => {
    const image = fixture('ocr/page-deu.jpg');
    const reference = fixture('ocr/page-deu.txt').toString('utf8');
    const asGerman = await convert(image, 'page-deu.jpg', { ...DEFAULT_CONVERT_LIMITS, ocrLanguages: ['deu'] });
    const asEnglish = await convert(image, 'page-deu.jpg', DEFAULT_CONVERT_LIMITS);
    assert.ok(characterErrorRate(reference, asEnglish.text) > characterErrorRate(reference, asGerman.text), asEnglish.text);
    assert.match(asGerman.text, /Großstraße/);
  });

  for (const [name, type, words] of [
    ['scan.png', 'png', 'twelve crates of lemons'],
    ['scan.webp', 'webp', 'eighteen brass hinges'],
    ['scan.bmp', 'bmp', '74 centimetres'],
  ] as const) {
    test(`${name} is read as ${type}`, async () => {
      const converted = await convert(fixture(`formats/${name}`), name, DEFAULT_CONVERT_LIMITS);
      assert.equal(converted.type, type);
      assert.match(converted.text, new RegExp(words));
    });
  }

  test('a multi-page TIFF keeps its page numbers', async () => {
    const converted = await convert(fixture('formats/scan.tiff'), 'scan.tiff', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'tiff');
    assert.deepEqual(converted.ocrPages?.map((page) => page.page), [1, 2]);
    const second = converted.pages?.find((start) => start.page === 2)?.offset ?? -1;
    assert.ok(second > 0);
    assert.match(converted.text.slice(second), /seven sopranos from Lindau/);
    assert.doesNotMatch(converted.text.slice(0, second), /Lindau/);
  });

  test('OCR_MAX_PAGES stops a TIFF after its first page: indexed as far as it got, and says so', async () => {
    const converted = await convert(fixture('formats/scan.tiff'), 'scan.tiff', { ...DEFAULT_CONVERT_LIMITS, ocrMaxPages: 1 });
    assert.match(converted.text, /page one/);
    assert.doesNotMatch(converted.text, /Lindau/);
    assert.deepEqual(converted.ocrStopped, { limit: 'pages', pagesRead: 1, pagesNeedingOcr: 2 });
  });

  test('OCR_MODE=off refuses an image with a reason', async () => {
    const error = await failure(convert(fixture('formats/scan.png'), 'scan.png', { ...DEFAULT_CONVERT_LIMITS, ocrMode: 'off' }));
    assert.equal(error.reason, 'no_text');
    assert.match(error.message, /OCR_MODE=off/);
  });

  test('an image bomb (a tiny PNG declaring 100,000 × 100,000 pixels) is refused before decoding', async () => {
    const bomb = declaredPng(100_000, 100_000);
    assert.ok(bomb.length < 200, `${bomb.length} bytes`);
    const error = await failure(convert(bomb, 'bomb.png', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /100000 × 100000 pixels .*refused before decoding/);
  });

  test('an image cut inside its header is corrupt', async () => {
    const error = await failure(convert(fixture('formats/scan.png').subarray(0, 20), 'cut.png', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
  });
});
