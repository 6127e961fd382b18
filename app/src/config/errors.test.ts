// Every setting refuses a bad value with one form of message: the variable (or the file's key, the
// file and the variable), the value given and what is expected. The table is checked against the
// schema, so a setting added without a bad-value case here fails this test.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, describeSettings, loadConfig } from './config.js';

/**
 * A bad value per environment variable, with what the message must say is expected. `env`: a
 * string from the environment (also tried as the same string in a config file); `file`: a value
 * only a config file can hold (a setting that takes any string has no bad string).
 */
type BadValue = { readonly env: string; readonly expect: RegExp } | { readonly file: unknown; readonly expect: RegExp };

const BAD: Readonly<Record<string, BadValue>> = {
  AWS_REGION: { env: 'eu west 1', expect: /an AWS region such as eu-west-1/ },
  AWS_ENDPOINT_URL: { env: 'localhost:4566', expect: /an http:\/\/ or https:\/\/ URL/ },
  S3_FORCE_PATH_STYLE: { env: 'yes', expect: /true or false/ },
  SQS_QUEUE_URL: { env: 'docs', expect: /an http:\/\/ or https:\/\/ URL/ },
  SQS_DEAD_LETTER_QUEUE_URL: { env: 'arn:aws:sqs:eu-west-1:123456789012:docs-dlq', expect: /an http:\/\/ or https:\/\/ URL/ },
  SQS_WAIT_TIME_SECONDS: { env: '30', expect: /an integer from 0 to 20/ },
  SQS_MAX_MESSAGES: { env: '11', expect: /an integer from 1 to 10/ },
  SQS_VISIBILITY_TIMEOUT_SECONDS: { env: '50000', expect: /an integer from 1 to 43200/ },
  SQS_RETRY_BASE_SECONDS: { env: '0', expect: /an integer from 1 to 43200/ },
  SQS_RETRY_MAX_SECONDS: { env: '15m', expect: /an integer from 1 to 43200/ },
  S3_BUCKET: { env: 's3://docs', expect: /a bucket name \(no s3:\/\/ and no \/\)/ },
  S3_PREFIX: { file: ['reports/', 'scans/'], expect: /a string/ },
  S3_ALLOWED_BUCKETS: { env: 'docs,s3://archive', expect: /bucket names, each optionally with \/prefix, separated by commas/ },
  S3_READ_METADATA: { env: 'yes', expect: /true or false/ },
  S3_READ_TAGS: { env: 'on', expect: /true or false/ },
  S3_READ_SIDECARS: { env: '1x', expect: /true or false/ },
  METADATA_FIELDS: { env: 'year:integer', expect: /name:type pairs separated by commas/ },
  ACL_METADATA_KEY: { env: 'allowed readers', expect: /a metadata or tag key/ },
  ACL_DEFAULT: { env: 'open', expect: /one of private, public/ },
  WORKER_CONCURRENCY: { env: '0', expect: /an integer ≥ 1/ },
  WORKER_DRAIN_DEADLINE_SECONDS: { env: '25s', expect: /an integer ≥ 1/ },
  FETCH_MAX_BYTES: { env: '10 potatoes', expect: /a size .*with a unit \(512KiB, 10MB, 1GB\)/ },
  CONVERT_MAX_PAGES: { env: '-1', expect: /an integer ≥ 1/ },
  CONVERT_MAX_SECONDS: { env: '1.5', expect: /an integer ≥ 1/ },
  CONVERT_MAX_INFLATED_BYTES: { env: '0', expect: /a size of at least 1 byte/ },
  CONVERT_MAX_INFLATE_RATIO: { env: '0', expect: /an integer ≥ 1/ },
  CONVERT_MAX_CHARS: { env: '10M', expect: /an integer ≥ 1/ },
  CONVERT_MAX_CHUNKS: { env: '0', expect: /an integer ≥ 1/ },
  CONVERT_MAX_HEAP_MB: { env: '384MB', expect: /an integer ≥ 16/ },
  CONVERT_PROCESSES: { env: 'auto', expect: /an integer ≥ 1/ },
  CONVERT_MAX_MEMORY_MB: { env: '10', expect: /an integer ≥ 64/ },
  SPLIT_BY: { env: 'foo', expect: /one of word, sentence, passage/ },
  OCR_MODE: { env: 'sometimes', expect: /one of auto, off, force/ },
  OCR_LANGUAGES: { env: 'eng+klingon', expect: /language codes joined by \+ \(each one of eng, deu/ },
  OCR_MAX_PAGES: { env: '0', expect: /an integer ≥ 1/ },
  OCR_MAX_SECONDS: { env: 'soon', expect: /an integer ≥ 1/ },
  OCR_DPI: { env: '1200', expect: /an integer/ },
  SPLIT_LENGTH: { env: 'abc', expect: /an integer ≥ 1/ },
  SPLIT_OVERLAP: { env: '-1', expect: /an integer ≥ 0/ },
  SPLIT_MAX_TOKENS: { env: '', expect: /an integer ≥ 1/ },
  SPLIT_WITHIN_PAGES: { env: '1', expect: /true or false/ },
  EMBEDDING_MODEL: { env: './models/all-MiniLM-L6-v2', expect: /a Hugging Face model id .* or an absolute path/ },
  EMBEDDING_DEVICE: { env: 'tpu', expect: /one of cpu, cuda, auto/ },
  EMBEDDING_DTYPE: { env: 'int4', expect: /one of fp32, fp16, q8/ },
  EMBEDDING_CACHE_DIR: { file: 42, expect: /a string/ },
  EMBEDDING_THREADS: { env: 'auto', expect: /an integer ≥ 0/ },
  EMBEDDING_BATCH_TOKENS: { env: '1k', expect: /an integer ≥ 1/ },
  EMBEDDING_SLICE_CHUNKS: { env: '0', expect: /an integer ≥ 1/ },
  EMBEDDING_PASSAGE_PREFIX: { file: { text: 'passage: ' }, expect: /a string/ },
  EMBEDDING_QUERY_PREFIX: { file: null, expect: /a string/ },
  SEARCH_ALLOWED_MODELS: { env: 'Xenova/e5-small-v2,./relative', expect: /Hugging Face model ids or absolute paths of model folders/ },
  STORE: { env: 'opensearch', expect: /one of \(empty\), elasticsearch, local/ },
  ELASTICSEARCH_URL: { env: 'es.local:9200', expect: /an http:\/\/ or https:\/\/ URL/ },
  ELASTICSEARCH_CLOUD_ID: { file: true, expect: /a string/ },
  ELASTICSEARCH_INDEX: { env: 'Documents', expect: /an Elasticsearch index name: lower case/ },
  ELASTICSEARCH_API_KEY: { file: 123456789, expect: /a string/ },
  ELASTICSEARCH_USERNAME: { file: ['elastic'], expect: /a string/ },
  ELASTICSEARCH_PASSWORD: { file: 987654321, expect: /a string/ },
  ELASTICSEARCH_CA_CERT: { file: false, expect: /a string/ },
  ELASTICSEARCH_SIMILARITY: { env: 'euclidean', expect: /one of cosine, dot_product, l2_norm, max_inner_product/ },
  ELASTICSEARCH_INDEX_OPTIONS: { env: 'ivf', expect: /one of hnsw, int8_hnsw, int4_hnsw, bbq_hnsw, flat, int8_flat/ },
  ELASTICSEARCH_BULK_MAX_BYTES: { env: '5 MB per request', expect: /a size of at least 1 byte/ },
  ELASTICSEARCH_REQUEST_TIMEOUT_SECONDS: { env: '30s', expect: /an integer ≥ 1/ },
  LOCAL_STORE_PATH: { env: '', expect: /a non-empty string/ },
  LOCAL_STORE_CHECKPOINT_FILES: { env: '0', expect: /an integer ≥ 1/ },
  LOCAL_STORE_CHECKPOINT_SECONDS: { env: '30s', expect: /an integer ≥ 1/ },
  HTTP_PORT: { env: 'abc', expect: /an integer from 0 to 65535/ },
  LOG_LEVEL: { env: 'verbose', expect: /one of fatal, error, warn, info, debug, trace, silent/ },
};

const settings = describeSettings();
const folder = mkdtempSync(path.join(tmpdir(), 'ki-config-errors-'));

/** A JSON config file holding `value` at the dotted `name`. */
function fileWith(name: string, value: unknown): string {
  const content: Record<string, unknown> = {};
  const keys = name.split('.');
  let node = content;
  for (const key of keys.slice(0, -1)) {
    const child: Record<string, unknown> = {};
    node[key] = child;
    node = child;
  }
  node[keys.at(-1) ?? name] = value;
  const file = path.join(folder, `${name}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

function messageOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    return error.message;
  }
  assert.fail('the bad value was accepted');
}

test('the table has a bad value for every setting in the schema, and none for settings that do not exist', () => {
  assert.deepEqual(Object.keys(BAD).sort(), settings.map((setting) => setting.env).sort());
});

describe('a bad value in the environment names the variable, the value given and what is expected', () => {
  for (const setting of settings) {
    const bad = BAD[setting.env];
    if (bad === undefined || !('env' in bad)) continue;
    test(`${setting.env}=${JSON.stringify(bad.env)}`, () => {
      const message = messageOf(() => loadConfig({ env: { [setting.env]: bad.env } }));
      assert.ok(message.includes(`${setting.env} (${setting.name}): must be `), message);
      assert.ok(message.includes(`got ${JSON.stringify(bad.env)}`), message);
      assert.match(message, bad.expect);
    });
  }
});

describe('a bad value in a config file names the key, the file, the variable, the value and what is expected', () => {
  for (const setting of settings) {
    const bad = BAD[setting.env];
    if (bad === undefined) continue;
    const value = 'env' in bad ? bad.env : bad.file;
    test(`${setting.name}: ${JSON.stringify(value)}`, () => {
      const file = fileWith(setting.name, value);
      const message = messageOf(() => loadConfig({ file, env: {} }));
      assert.ok(message.includes(`${setting.name} in ${file} (or ${setting.env}): must be `), message);
      assert.match(message, bad.expect);
      if (setting.sensitive) {
        assert.ok(!message.includes(String(value)), `a secret is never echoed: ${message}`);
      } else {
        assert.ok(message.includes(`got ${JSON.stringify(value)}`), message);
      }
    });
  }
});

describe('values of the accepted forms', () => {
  test('sizes take bytes or a unit (the parser of backfill --max-size)', () => {
    const settings = loadConfig({ env: { FETCH_MAX_BYTES: '10MB', CONVERT_MAX_INFLATED_BYTES: '512KiB', ELASTICSEARCH_BULK_MAX_BYTES: '5000' } });
    assert.equal(settings.fetch.maxBytes, 10_000_000);
    assert.equal(settings.convert.maxInflatedBytes, 512 * 1024);
    assert.equal(settings.elasticsearch.bulkMaxBytes, 5000);
    const fromFile = loadConfig({ file: fileWith('fetch.maxBytes', '1GB'), env: {} });
    assert.equal(fromFile.fetch.maxBytes, 1e9);
    // What Helm's toString makes of a values file's 104857600 and 16384.
    const fromHelm = loadConfig({ env: { FETCH_MAX_BYTES: '1.048576e+08', EMBEDDING_BATCH_TOKENS: '1.6384e+04' } });
    assert.equal(fromHelm.fetch.maxBytes, 104_857_600);
    assert.equal(fromHelm.embedding.batchTokens, 16_384);
  });

  test('booleans are true or false, as text or as YAML/JSON booleans; 1, 0, yes and no are refused', () => {
    assert.equal(loadConfig({ env: { S3_FORCE_PATH_STYLE: 'true' } }).aws.s3ForcePathStyle, true);
    assert.equal(loadConfig({ env: { SPLIT_WITHIN_PAGES: 'false' } }).split.withinPages, false);
    assert.equal(loadConfig({ file: fileWith('split.withinPages', false), env: {} }).split.withinPages, false);
    for (const word of ['1', '0', 'yes', 'no', 'on', 'TRUE']) {
      assert.throws(() => loadConfig({ env: { S3_FORCE_PATH_STYLE: word } }), /S3_FORCE_PATH_STYLE .*must be true or false/);
    }
  });

  test('a YAML file names its key too, and the environment still wins over it', () => {
    const file = path.join(folder, 'indexer.yaml');
    writeFileSync(file, 'split:\n  by: foo\nhttp:\n  port: 8081\n');
    const message = messageOf(() => loadConfig({ file, env: {} }));
    assert.ok(message.includes(`split.by in ${file} (or SPLIT_BY): must be one of word, sentence, passage, got "foo"`), message);
    assert.equal(loadConfig({ file, env: { SPLIT_BY: 'sentence' } }).split.by, 'sentence');
    assert.equal(loadConfig({ file, env: { SPLIT_BY: 'sentence', HTTP_PORT: '9000' } }).http.port, 9000);
  });

  test('every bad value is reported at once, one line each', () => {
    const message = messageOf(() => loadConfig({ env: { SPLIT_BY: 'foo', HTTP_PORT: 'abc' } }));
    assert.match(message, /\n {2}SPLIT_BY .*\n {2}HTTP_PORT /);
  });
});
