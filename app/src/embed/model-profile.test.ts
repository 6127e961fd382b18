import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { effectiveDtype, modelSlug, readModelProfile } from './model-profile.js';

test('a hub id and a local folder of the same model have the same slug', () => {
  assert.equal(modelSlug('Xenova/all-MiniLM-L6-v2'), 'all-minilm-l6-v2');
  assert.equal(modelSlug('/root/.cache/keda-indexer/models/all-MiniLM-L6-v2'), 'all-minilm-l6-v2');
  assert.equal(modelSlug('intfloat/e5-small-v2'), 'e5-small-v2');
  assert.equal(modelSlug('/models/e5-small-v2/'), 'e5-small-v2');
  assert.equal(modelSlug('BAAI/bge_small.EN v1.5'), 'bge-small-en-v1-5');
});

test('e5 hub ids get the prefixes the model card asks for; other models none', () => {
  assert.deepEqual(readModelProfile('Xenova/e5-small-v2'), { passagePrefix: 'passage: ', queryPrefix: 'query: ' });
  assert.deepEqual(readModelProfile('intfloat/multilingual-e5-base'), { passagePrefix: 'passage: ', queryPrefix: 'query: ' });
  assert.deepEqual(readModelProfile('Xenova/all-MiniLM-L6-v2'), {});
});

test("a folder's keda-indexer.json wins over the built-in table and picks the weights the folder has", () => {
  const folder = path.join(mkdtempSync(path.join(tmpdir(), 'ki-profile-')), 'e5-small-v2');
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  writeFileSync(path.join(folder, 'keda-indexer.json'), JSON.stringify({ passage_prefix: 'p: ', query_prefix: 'q: ', dtype: 'q8' }));
  writeFileSync(path.join(folder, 'onnx', 'model_quantized.onnx'), '');
  const profile = readModelProfile(folder);
  assert.deepEqual(profile, { passagePrefix: 'p: ', queryPrefix: 'q: ', dtype: 'q8' });
  assert.equal(effectiveDtype(folder, 'fp32', profile), 'q8', 'no onnx/model.onnx: the profile dtype');
  writeFileSync(path.join(folder, 'onnx', 'model.onnx'), '');
  assert.equal(effectiveDtype(folder, 'fp32', profile), 'fp32', 'the configured weights exist: they win');
  writeFileSync(path.join(folder, 'keda-indexer.json'), JSON.stringify({ dtype: 'int3' }));
  assert.throws(() => readModelProfile(folder), /"dtype" must be one of fp32, fp16, q8, not int3/);
});
