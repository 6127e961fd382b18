import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelMismatch, modelRecordOf, physicalIndexName, versionOf } from './index-alias.js';

test('physical index names carry the version and the model, and parse back', () => {
  const name = physicalIndexName('documents', 2, 'Xenova/e5-small-v2');
  assert.equal(name, 'documents-v2-e5-small-v2');
  assert.equal(versionOf('documents', name), 2);
  assert.equal(versionOf('documents', 'documents-v12-all-minilm-l6-v2'), 12);
  assert.equal(versionOf('documents', 'documents-v2-e5-small-v2-files'), undefined, 'records are not a version');
  assert.equal(versionOf('documents', 'documents-files'), undefined);
  assert.equal(versionOf('documents', 'documentsx-v1-m'), undefined);
  assert.equal(versionOf('docs', 'documents-v1-m'), undefined);
});

test('a writer of another model, dims or prefix does not belong in an index', () => {
  const minilm = modelRecordOf({ model: '/models/all-MiniLM-L6-v2', dtype: 'fp32', passagePrefix: '', queryPrefix: '' }, 384);
  const e5 = modelRecordOf({ model: 'Xenova/e5-small-v2', dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' }, 384);
  assert.equal(modelMismatch(minilm, modelRecordOf({ model: 'Xenova/all-MiniLM-L6-v2', dtype: 'q8', passagePrefix: '', queryPrefix: '' }, 384)), undefined);
  assert.match(modelMismatch(minilm, e5) ?? '', /model all-minilm-l6-v2, not e5-small-v2/);
  assert.match(modelMismatch(e5, { ...e5, dims: 768 }) ?? '', /384 dims, not 768/);
  assert.match(modelMismatch(e5, { ...e5, passage_prefix: '' }) ?? '', /passage prefix/);
});
