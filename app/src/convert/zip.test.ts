// The bounded ZIP reader on archives made here, honest and lying.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import JSZip from 'jszip';
import { BoundedZip } from './zip.js';
import { conversionFailure as failure } from '../../../test/support/conversion.js';

const LIMITS = { maxInflatedBytes: 64 * 1024 * 1024, maxInflateRatio: 200 };

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const zip = new JSZip();
  for (const [name, content] of Object.entries(entries)) zip.file(name, content);
  return Buffer.from(await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' }));
}

/**
 * The archive with `name`'s declared uncompressed size set to `declared` in both its local header
 * and its central-directory record, as a hostile file would.
 */
function lyingAbout(archive: Buffer, name: string, declared: number): Buffer {
  const patched = Buffer.from(archive);
  const nameBytes = Buffer.from(name);
  for (let at = 0; at < patched.length - 4; at++) {
    const signature = patched.readUInt32LE(at);
    if (signature === 0x04034b50 && patched.subarray(at + 30, at + 30 + nameBytes.length).equals(nameBytes)) patched.writeUInt32LE(declared, at + 22);
    if (signature === 0x02014b50 && patched.subarray(at + 46, at + 46 + nameBytes.length).equals(nameBytes)) patched.writeUInt32LE(declared, at + 24);
  }
  return patched;
}

describe('BoundedZip', () => {
  test('reads the entries it is asked for', async () => {
    const zip = await BoundedZip.open(await zipOf({ 'a.xml': '<a>one</a>', 'b/c.xml': '<c>two</c>' }), 'TEST', LIMITS);
    assert.deepEqual(zip.names, ['a.xml', 'b/c.xml']);
    assert.equal(await zip.readText('b/c.xml'), '<c>two</c>');
    assert.equal(await zip.readText('missing.xml'), undefined);
  });

  test('an entry that inflates to more than it declares is stopped as it inflates', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const zip = await BoundedZip.open(lyingAbout(await zipOf({ 'doc.xml': big }), 'doc.xml', 1000), 'TEST', LIMITS);
    const error = await failure(zip.read('doc.xml'));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /doc\.xml cannot be inflated/);
  });

  test('an entry past the ratio cap is too_large, naming the setting', async () => {
    const runs = '<w:r><w:t></w:t></w:r>'.repeat(200_000);
    const zip = await BoundedZip.open(await zipOf({ 'word/document.xml': runs }), 'DOCX', LIMITS);
    const error = await failure(zip.checkAll());
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /word\/document\.xml inflates to more than 200 times .*CONVERT_MAX_INFLATE_RATIO/);
  });

  test('small entries are not held to the ratio cap', async () => {
    const zip = await BoundedZip.open(await zipOf({ 'styles.xml': ' '.repeat(500_000) }), 'DOCX', LIMITS);
    assert.equal((await zip.read('styles.xml'))?.length, 500_000);
  });

  test('the budget counts bytes across entries, and stops at the first over it', async () => {
    const part = 'lorem ipsum dolor sit amet '.repeat(20_000);
    const zip = await BoundedZip.open(await zipOf({ 'a.xml': part, 'b.xml': part }), 'XLSX', { ...LIMITS, maxInflatedBytes: part.length + 10 });
    await zip.read('a.xml');
    const error = await failure(zip.read('b.xml'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /XLSX inflates past \d+ bytes at entry b\.xml .*CONVERT_MAX_INFLATED_BYTES/);
  });

  test('bytes that are no ZIP are corrupt', async () => {
    const error = await failure(BoundedZip.open(Buffer.from('not a zip at all'), 'PPTX', LIMITS));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /PPTX is not a readable ZIP archive/);
  });
});
