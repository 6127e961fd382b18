import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../config/config.js';
import { modelRecordOf } from '../store/model-record.js';
import { UserError } from './common.js';
import { queryModelFor } from './query-model.js';

const models = mkdtempSync(path.join(tmpdir(), 'ki-query-model-'));
const minilm = path.join(models, 'all-MiniLM-L6-v2');
const e5 = path.join(models, 'e5-small-v2');
mkdirSync(minilm);
mkdirSync(e5);
const settingsWith = (model: string, allowed: string[] = []) => loadConfig({ env: { EMBEDDING_MODEL: model, SEARCH_ALLOWED_MODELS: allowed.join(',') } });
const e5Record = (source: string) => modelRecordOf({ model: source, dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' }, 384);

test('the recorded model, with its prefixes and dtype, loaded from where the operator put it', () => {
  // On the allow-list as a folder, whatever the index recorded as its location.
  const allowed = settingsWith(minilm, [e5]);
  assert.deepEqual(queryModelFor(allowed, 'i', e5Record('/elsewhere/models/e5-small-v2')), { model: e5, dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' });
  assert.equal(queryModelFor(allowed, 'i', e5Record('Xenova/e5-small-v2')).model, e5);
  // On the allow-list as a hub id.
  assert.equal(queryModelFor(settingsWith('Xenova/all-MiniLM-L6-v2', ['intfloat/e5-small-v2']), 'i', e5Record('intfloat/e5-small-v2')).model, 'intfloat/e5-small-v2');
  // EMBEDDING_MODEL is the recorded model under another spelling: it is used, with the recorded prefixes.
  assert.deepEqual(queryModelFor(settingsWith('Xenova/e5-small-v2'), 'i', e5Record(e5)), { model: 'Xenova/e5-small-v2', dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ' });
});

test('an index without a recorded model is searched with EMBEDDING_MODEL and its settings', () => {
  assert.deepEqual(queryModelFor(settingsWith(minilm), 'i', undefined), { model: minilm, dtype: 'fp32', passagePrefix: '', queryPrefix: '' });
});

test("never what the index's _meta names: a hub id, a folder that exists here, or a folder beside EMBEDDING_MODEL", () => {
  const refused = (settings: ReturnType<typeof settingsWith>, source: string) => { assert.throws(
      () => queryModelFor(settings, 'documents-v2-e5-small-v2', e5Record(source)),
      (error: unknown) =>
        error instanceof UserError &&
        /index documents-v2-e5-small-v2 holds vectors of model e5-small-v2/.test(error.message) &&
        /neither EMBEDDING_MODEL .* nor in SEARCH_ALLOWED_MODELS/.test(error.message) &&
        /add that model's Hugging Face id or local folder \(scripts\/fetch-model --model e5-small-v2\) to SEARCH_ALLOWED_MODELS/.test(error.message),
    ); };
  // Hub ids everywhere used to mean "download the recorded hub id": an attacker's repository.
  refused(settingsWith('Xenova/all-MiniLM-L6-v2'), 'attacker/e5-small-v2');
  // A recorded folder that exists on this machine.
  refused(settingsWith(minilm), e5);
  // A folder of the recorded name beside the EMBEDDING_MODEL folder (where fetch-model puts models).
  refused(settingsWith(minilm), 'Xenova/e5-small-v2');
  // Another model on the allow-list does not stand in for it.
  refused(settingsWith(minilm, ['Xenova/bge-small-en-v1.5']), 'Xenova/e5-small-v2');
});

test('SEARCH_ALLOWED_MODELS takes hub ids and absolute folders only', () => {
  assert.deepEqual(settingsWith(minilm, ['Xenova/e5-small-v2', e5]).embedding.searchAllowedModels, ['Xenova/e5-small-v2', e5]);
  assert.throws(() => settingsWith(minilm, ['./relative/model']), /SEARCH_ALLOWED_MODELS \(embedding\.searchAllowedModels\): must be/);
});
