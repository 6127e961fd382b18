import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config/config.js';
import { buildRuntime, storeKindOf } from './runtime.js';

const kindOf = (env: Record<string, string>) => storeKindOf(loadConfig({ env }));

test('STORE empty: Elasticsearch when it is configured (URL or cloud id), else the local store', () => {
  assert.equal(kindOf({}), 'local');
  assert.equal(kindOf({ ELASTICSEARCH_URL: 'http://es:9200' }), 'elasticsearch');
  assert.equal(kindOf({ ELASTICSEARCH_CLOUD_ID: 'name:abc' }), 'elasticsearch');
});

test('STORE picks the store, whatever else is set', () => {
  assert.equal(kindOf({ STORE: 'local', ELASTICSEARCH_URL: 'http://es:9200' }), 'local');
  assert.equal(kindOf({ STORE: 'elasticsearch', ELASTICSEARCH_URL: 'http://es:9200' }), 'elasticsearch');
});

test('STORE=elasticsearch without ELASTICSEARCH_URL is a usage error naming both settings', () => {
  assert.throws(
    () => kindOf({ STORE: 'elasticsearch' }),
    (error: unknown) => error instanceof ConfigError && /STORE=elasticsearch/.test(error.message) && /ELASTICSEARCH_URL/.test(error.message),
  );
});

test('buildRuntime hands out the chosen store: only Elasticsearch is shared by workers and has versions', async () => {
  const local = buildRuntime(loadConfig({ env: { LOCAL_STORE_PATH: '/tmp/ki-runtime-test' } })).store;
  assert.equal(local.shared, false);
  assert.equal(local.reindexing, undefined);
  assert.equal('prepare' in local, false, 'the local store is made by its first write');
  assert.match(local.description, /^local store \/tmp\/ki-runtime-test$/);
  const es = buildRuntime(loadConfig({ env: { ELASTICSEARCH_URL: 'http://user:secret@es:9200' } })).store;
  assert.equal(es.shared, true);
  assert.notEqual(es.reindexing, undefined);
  assert.equal(es.description.includes('secret'), false, 'credentials never in messages');
  await Promise.all([local.close(), es.close()]);
});
