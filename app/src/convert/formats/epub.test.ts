// EPUB on a book ebooklib made (test/fixtures/formats/almanac.epub; generate-office.py), and on
// variants built here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { conversionFailure as failure } from '../../../../test/support/conversion.js';

const book = readFileSync(new URL('../../../../test/fixtures/formats/almanac.epub', import.meta.url));

async function rezipped(change: (zip: JSZip) => Promise<void> | void): Promise<Buffer> {
  const zip = await JSZip.loadAsync(book);
  await change(zip);
  return Buffer.from(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
}

describe('EPUB', () => {
  test("chapters come in the spine's order, each a section named from the table of contents; the nav page is not text", async () => {
    const converted = await convert(book, 'almanac.epub', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'epub');
    assert.deepEqual(converted.sections?.map((section) => section.name), ['Sowing', 'Harvest', 'Frosts']);
    for (const section of converted.sections ?? []) assert.ok(converted.text.startsWith(section.name, section.offset), `${section.name} starts where its section does`);
    assert.match(converted.text, /Harvest\n\nThe celery harvest ends before the first frost\.\n\nFrosts\n\nIn the Fens the last frost of spring came on the 9th of May/);
    assert.equal(converted.text.match(/Sowing/g)?.length, 1, 'the nav page is not read as a chapter');
  });

  test('a chapter the table of contents does not name is named by its <title>, else its file name', async () => {
    const bytes = await rezipped(async (zip) => {
      zip.remove('EPUB/toc.ncx');
      zip.remove('EPUB/nav.xhtml');
      const chapter = await zip.file('EPUB/chap_03.xhtml')?.async('string');
      zip.file('EPUB/chap_03.xhtml', chapter?.replace(/<title>[^<]*<\/title>/, '') ?? '');
    });
    const converted = await convert(bytes, 'x.epub', DEFAULT_CONVERT_LIMITS);
    assert.deepEqual(converted.sections?.map((section) => section.name), ['Sowing', 'chap_03.xhtml', 'Frosts']);
  });

  test('DRM-encrypted chapters are encrypted; obfuscated fonts are no obstacle', async () => {
    const encryption = (algorithm: string, uri: string) =>
      `<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod Algorithm="${algorithm}"/><enc:CipherData><enc:CipherReference URI="${uri}"/></enc:CipherData></enc:EncryptedData></encryption>`;
    const drm = await rezipped((zip) => {
      zip.file('META-INF/encryption.xml', encryption('http://www.w3.org/2001/04/xmlenc#aes128-cbc', 'EPUB/chap_02.xhtml'));
    });
    assert.equal((await failure(convert(drm, 'x.epub', DEFAULT_CONVERT_LIMITS))).reason, 'encrypted');
    const fonts = await rezipped((zip) => {
      zip.file('META-INF/encryption.xml', encryption('http://www.idpf.org/2008/embedding', 'EPUB/chap_02.xhtml'));
    });
    assert.match((await convert(fonts, 'x.epub', DEFAULT_CONVERT_LIMITS)).text, /9th of May/);
  });

  test('an EPUB without container.xml, or whose package has no spine, is corrupt', async () => {
    const noContainer = await rezipped((zip) => {
      zip.remove('META-INF/container.xml');
    });
    assert.equal((await failure(convert(noContainer, 'x.epub', DEFAULT_CONVERT_LIMITS))).reason, 'corrupt');
    const noSpine = await rezipped(async (zip) => {
      const opf = (await zip.file('EPUB/content.opf')?.async('string')) ?? '';
      zip.file('EPUB/content.opf', opf.replace(/<spine[\s\S]*<\/spine>/, ''));
    });
    assert.equal((await failure(convert(noSpine, 'x.epub', DEFAULT_CONVERT_LIMITS))).reason, 'corrupt');
  });
});
