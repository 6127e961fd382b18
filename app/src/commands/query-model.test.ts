import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/config.js';
import { modelRecordOf } from '../sink/index-alias.js';
import { UserError } from './common.js';
import { queryModelFor } from './query-model.js';

const models = mkdtempSync(path.join(tmpdir(), 'ki-query-model-'));
const minilm = path.join(models, 'all-MiniLM-L6-v2');
const e5 = path.join(models, 'e5-small-v2');
mkdirSync(minilm);
mkdirSync(e5);
const settingsWith = (model: string) => loadConfig({ env: { EMBEDDING_MODEL: model } });
const e5Record = (source: string) => modelRecordOf({ model: source, dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' }, 384);

test('the recorded model, with its prefixes and dtype, whatever EMBEDDING_MODEL is', () => {
  assert.deepEqual(queryModelFor(settingsWith(minilm), 'i', e5Record(e5)), { model: e5, dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' });
  // Recorded as a hub id on another machine, found here beside the configured folder.
  assert.equal(queryModelFor(settingsWith(minilm), 'i', e5Record('Xenova/e5-small-v2')).model, e5);
  // Recorded as a folder elsewhere, found beside the configured folder.
  assert.equal(queryModelFor(settingsWith(minilm), 'i', e5Record('/elsewhere/models/e5-small-v2')).model, e5);
  // Hub ids everywhere: the recorded hub id.
  assert.equal(queryModelFor(settingsWith('Xenova/all-MiniLM-L6-v2'), 'i', e5Record('intfloat/e5-small-v2')).model, 'intfloat/e5-small-v2');
  // EMBEDDING_MODEL is the recorded model under another spelling: it is used, with the recorded prefixes.
  assert.equal(queryModelFor(settingsWith('Xenova/e5-small-v2'), 'i', e5Record(e5)).model, 'Xenova/e5-small-v2');
});

test('an index without a recorded model is searched with EMBEDDING_MODEL and its settings', () => {
  assert.deepEqual(queryModelFor(settingsWith(minilm), 'i', undefined), { model: minilm, dtype: 'fp32', passagePrefix: '', queryPrefix: '' });
});

test('a recorded model not available here is refused, naming the setting and the fix', () => {
  const lonely = path.join(mkdtempSync(path.join(tmpdir(), 'ki-query-model-')), 'all-MiniLM-L6-v2');
  mkdirSync(lonely);
  assert.throws(
    () => queryModelFor(settingsWith(lonely), 'documents-v2-e5-small-v2', e5Record('/elsewhere/models/e5-small-v2')),
    (error: unknown) =>
      error instanceof UserError &&
      /index documents-v2-e5-small-v2 holds vectors of model e5-small-v2/.test(error.message) &&
      /set EMBEDDING_MODEL to a local folder of e5-small-v2 \(scripts\/fetch-model --model e5-small-v2\)/.test(error.message),
  );
});
