import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexSettingsFingerprint, sameEtag, type IndexSettings } from './index-settings.js';

const base: IndexSettings = {
  model: 'Xenova/all-MiniLM-L6-v2',
  dims: 384,
  dtype: 'fp32',
  passagePrefix: '',
  split: { by: 'word', length: 200, overlap: 20, maxTokens: 256, withinPages: true },
  maxTokens: 256,
};

test('the fingerprint is stable and changes with every setting that changes the chunks or vectors', () => {
  const fingerprint = indexSettingsFingerprint(base);
  assert.match(fingerprint, /^[0-9a-f]{16}$/);
  assert.equal(indexSettingsFingerprint({ ...base, split: { ...base.split } }), fingerprint);
  const variants: IndexSettings[] = [
    { ...base, model: 'intfloat/e5-small-v2' },
    { ...base, dims: 768 },
    { ...base, dtype: 'q8' },
    { ...base, passagePrefix: 'passage: ' },
    { ...base, split: { ...base.split, by: 'sentence' } },
    { ...base, split: { ...base.split, length: 100 } },
    { ...base, split: { ...base.split, overlap: 0 } },
    { ...base, split: { ...base.split, withinPages: false } },
    { ...base, maxTokens: 128 },
  ];
  const seen = new Set([fingerprint, ...variants.map(indexSettingsFingerprint)]);
  assert.equal(seen.size, variants.length + 1);
});

test('ETags compare with or without the quotes S3 puts around them', () => {
  assert.ok(sameEtag('"abc"', 'abc'));
  assert.ok(sameEtag('abc', 'abc'));
  assert.ok(!sameEtag('"abc"', '"abd"'));
});

test('FileIndexer.isUnchanged: same ETag and same settings on an indexed record, nothing less', async () => {
  const { FileIndexer } = await import('./index-file.js');
  const { loadConfig } = await import('../config/config.js');
  const settings = loadConfig({ env: {} });
  const embedder = { model: 'm', dimensions: 384, modelMaxTokens: 256, countTokens: (text: string) => text.length };
  const batcher = { embedPassages: () => Promise.reject(new Error('no embedding in this test')) };
  let recorded: { etag?: string; indexSettings?: string } | undefined;
  const sink = {
    claim: () => Promise.reject(new Error('no claim in this test')),
    write: () => Promise.reject(new Error('no write in this test')),
    remove: () => Promise.reject(new Error('no remove in this test')),
    indexedFrom: () => Promise.resolve(recorded),
    recordDeadLettered: () => Promise.reject(new Error('no dead letter in this test')),
  };
  const indexer = new FileIndexer(embedder, batcher, sink, settings);
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abc'), false, 'never indexed');
  recorded = { etag: '"abc"', indexSettings: indexer.indexSettings };
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abc'), true);
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abd'), false, 'another version of the object');
  recorded = { etag: '"abc"', indexSettings: 'another-model' };
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abc'), false, 'other index settings');
  recorded = { etag: '"abc"' };
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abc'), false, 'indexed before fingerprints were recorded');
  recorded = undefined;
  assert.equal(await indexer.isUnchanged('s3://b/k', 'abc'), false, 'a store that says nothing of the file');

  // The model by its identity: a hub id and the folder fetched from it write the same fingerprint;
  // a record made with the older, spelled fingerprint of this very spelling still counts.
  const { indexSettingsFingerprint } = await import('./index-settings.js');
  const hub = new FileIndexer({ ...embedder, model: 'Xenova/all-MiniLM-L6-v2' }, batcher, sink, settings);
  const folder = new FileIndexer({ ...embedder, model: '/cache/models/all-MiniLM-L6-v2' }, batcher, sink, settings);
  assert.equal(hub.indexSettings, folder.indexSettings);
  const spelled = indexSettingsFingerprint({ model: 'Xenova/all-MiniLM-L6-v2', dims: 384, dtype: settings.embedding.dtype, passagePrefix: '', split: settings.split, maxTokens: 256 });
  recorded = { etag: 'abc', indexSettings: spelled };
  assert.equal(await hub.isUnchanged('s3://b/k', 'abc'), true, 'recorded before, under the same spelling');
  assert.equal(await folder.isUnchanged('s3://b/k', 'abc'), false, 'the old fingerprint knew only its own spelling');
});
