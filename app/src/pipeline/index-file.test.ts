import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/config.js';
import { isPermanent } from '../failure.js';
import type { ChunkDocument, ChunkSlices } from '../store/document.js';
import type { WriteClaim } from '../store/port.js';
import { FileIndexer } from './index-file.js';

test('a file that splits into more chunks than CONVERT_MAX_CHUNKS is refused as too_large before any embedding', async () => {
  const settings = loadConfig({ env: { CONVERT_MAX_CHUNKS: '3', SPLIT_LENGTH: '10', SPLIT_OVERLAP: '0' } });
  const embedder = { model: 'm', dimensions: 384, modelMaxTokens: 256, countTokens: (text: string) => text.split(' ').length };
  let embedded = 0;
  const batcher = {
    embedPassages: (passages: readonly unknown[]) => {
      embedded += passages.length;
      return Promise.resolve(passages.map(() => new Float32Array(384)));
    },
  };
  const refused = () => Promise.reject(new Error('nothing is written in this test'));
  const sink = { claim: refused, write: refused, remove: refused, indexedFrom: refused, recordDeadLettered: refused };
  const indexer = new FileIndexer(embedder, batcher, sink, settings);
  const claim = { sourceId: 's', filePath: '/tmp/forty-words.txt' };
  const bytes = new TextEncoder().encode(Array.from({ length: 40 }, (_, i) => `word${i}`).join(' '));
  const error = await indexer.index({ bytes, fileName: 'forty-words.txt', filePath: claim.filePath }, claim).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(isPermanent(error), String(error));
  assert.equal(error.reason, 'too_large');
  assert.match(error.message, /4 chunks, more than CONVERT_MAX_CHUNKS=3/);
  assert.equal(embedded, 0);
});

test("an e-mail's attachments are written under the mail's claim: file_path <path>#<name>, split ids going on from the mail's", async () => {
  const settings = loadConfig({ env: { SPLIT_LENGTH: '10', SPLIT_OVERLAP: '0' } });
  const embedder = { model: 'm', dimensions: 3, modelMaxTokens: 256, countTokens: (text: string) => text.split(' ').length };
  const batcher = { embedPassages: (passages: readonly unknown[]) => Promise.resolve(passages.map(() => new Float32Array(3))) };
  const written: ChunkDocument[] = [];
  const refused = () => Promise.reject(new Error('not used in this test'));
  const sink = {
    claim: refused,
    remove: refused,
    indexedFrom: refused,
    recordDeadLettered: refused,
    async write(_claim: WriteClaim, slices: ChunkSlices) {
      for await (const slice of slices) written.push(...slice);
      return { written: written.length, staleDeleted: 0, superseded: false };
    },
  };
  const indexer = new FileIndexer(embedder, batcher, sink, settings);
  const claim = { sourceId: 'mail', filePath: 's3://b/inbox/m.eml' };
  const attachment = (name: string, text: string) =>
    `--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="${name}"\r\n\r\n${text}\r\n`;
  const mail = [
    'From: a@example.org\r\nSubject: Two notes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n',
    '--b\r\nContent-Type: text/plain\r\n\r\nThe body of the mail.\r\n',
    attachment('one.txt', Array.from({ length: 15 }, (_, i) => `one${i}`).join(' ')),
    attachment('two.bin', '\u0000\u0001\u0002binary'),
    attachment('one.txt', 'second note'),
    '--b--\r\n',
  ].join('');
  const result = await indexer.index({ bytes: new TextEncoder().encode(mail), fileName: 'm.eml', filePath: claim.filePath }, claim);
  assert.deepEqual(
    written.map((document) => [document.split_id, document.file_path, document.content_type, document.source_id]),
    [
      [0, 's3://b/inbox/m.eml', 'message/rfc822', 'mail'],
      [1, 's3://b/inbox/m.eml#one.txt', 'text/plain', 'mail'],
      [2, 's3://b/inbox/m.eml#one.txt', 'text/plain', 'mail'],
      [3, 's3://b/inbox/m.eml#one (2).txt', 'text/plain', 'mail'],
    ],
  );
  assert.equal(result.chunks, 4);
  assert.deepEqual(result.attachments?.indexed, ['one.txt', 'one (2).txt']);
  assert.deepEqual(result.attachments.skipped.map((part) => [part.name, part.reason]), [['two.bin', 'unsupported_type']]);
});
