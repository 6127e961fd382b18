import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, describeSettings, loadConfig } from './config.js';

describe('loadConfig', () => {
  test('defaults suit the default model with no environment at all', () => {
    const settings = loadConfig({ env: {} });
    assert.equal(settings.embedding.model, 'Xenova/all-MiniLM-L6-v2');
    assert.equal(settings.split.maxTokens, 256);
    assert.equal(settings.http.port, 8080);
    assert.equal(settings.aws.s3ForcePathStyle, false);
  });

  test('environment variables of the contract are read and coerced', () => {
    const settings = loadConfig({
      env: {
        SQS_QUEUE_URL: 'http://127.0.0.1:4566/000000000000/docs',
        ELASTICSEARCH_URL: 'http://127.0.0.1:9200',
        EMBEDDING_DEVICE: 'auto',
        WORKER_CONCURRENCY: '8',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      },
    });
    assert.equal(settings.sqs.queueUrl, 'http://127.0.0.1:4566/000000000000/docs');
    assert.equal(settings.embedding.device, 'auto');
    assert.equal(settings.worker.concurrency, 8);
    assert.equal(settings.aws.s3ForcePathStyle, true, 'an emulator endpoint implies path-style S3');
  });

  test('a YAML file is read, and the environment overrides it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ki-config-'));
    const file = path.join(dir, 'indexer.yaml');
    writeFileSync(file, 'split:\n  by: sentence\n  length: 5\n  overlap: 1\nelasticsearch:\n  index: from-file\n');
    const settings = loadConfig({ file, env: { ELASTICSEARCH_INDEX: 'from-env' } });
    assert.equal(settings.split.by, 'sentence');
    assert.equal(settings.split.length, 5);
    assert.equal(settings.elasticsearch.index, 'from-env');
  });

  test('a bad value names the setting, the value and the expected form', () => {
    assert.throws(
      () => loadConfig({ env: { EMBEDDING_DEVICE: 'tpu' } }),
      (error: unknown) =>
        error instanceof ConfigError && /embedding\.device/.test(error.message) && /tpu/.test(error.message) && /cpu.*cuda.*auto/.test(error.message),
    );
    assert.throws(() => loadConfig({ env: { WORKER_CONCURRENCY: '0' } }), /worker\.concurrency.*integer ≥ 1/);
    assert.throws(() => loadConfig({ env: { HTTP_PORT: 'eighty' } }), /HTTP_PORT \(http\.port\): must be an integer from 0 to 65535, got "eighty"/);
  });

  test('S3_ALLOWED_BUCKETS: a comma list from the environment, a list from a file, bad entries named', () => {
    assert.deepEqual(loadConfig({ env: {} }).s3.allowedBuckets, []);
    assert.deepEqual(loadConfig({ env: { S3_ALLOWED_BUCKETS: 'docs, archive/2024/' } }).s3.allowedBuckets, ['docs', 'archive/2024/']);
    const dir = mkdtempSync(path.join(tmpdir(), 'ki-config-'));
    const file = path.join(dir, 'indexer.yaml');
    writeFileSync(file, 's3:\n  allowedBuckets: [docs, shared/team/]\n');
    assert.deepEqual(loadConfig({ file, env: {} }).s3.allowedBuckets, ['docs', 'shared/team/']);
    assert.throws(() => loadConfig({ env: { S3_ALLOWED_BUCKETS: 'docs,s3://other' } }), /S3_ALLOWED_BUCKETS \(s3\.allowedBuckets\): must be bucket names.*got "docs,s3:\/\/other"/);
  });

  test('cross-field rules are enforced', () => {
    assert.throws(() => loadConfig({ env: { SPLIT_LENGTH: '10', SPLIT_OVERLAP: '10' } }), /SPLIT_OVERLAP \(split\.overlap\): must be less than SPLIT_LENGTH .*, got 10/);
  });

  test('an unknown key in a config file is an error, not ignored', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ki-config-'));
    const file = path.join(dir, 'indexer.json');
    writeFileSync(file, JSON.stringify({ split: { lenght: 5 } }));
    assert.throws(() => loadConfig({ file, env: {} }), /split\.lenght/);
  });
});

test('every setting is documented with an environment variable', () => {
  const rows = describeSettings();
  assert.ok(rows.length > 30);
  for (const row of rows) {
    assert.match(row.env, /^[A-Z][A-Z0-9_]+$/, row.name);
    assert.ok(row.doc.length > 10, `${row.name} lacks a description`);
  }
  assert.equal(new Set(rows.map((r) => r.env)).size, rows.length, 'environment variables are unique');
});
