import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config/config.js';
import { isPermanent } from '../failure.js';
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
  const sink = { claim: refused, writeFile: refused, writeFileSlices: refused, removeFile: refused };
  const indexer = new FileIndexer(embedder, batcher, sink, settings);
  const claim = { sourceId: 's', filePath: '/tmp/forty-words.txt', generation: 1, seqNo: 0, primaryTerm: 0 };
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
