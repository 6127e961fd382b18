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
