// Configuration and flag errors as a user meets them through the built CLI (dist/cli.js): exit code
// 2 (README, "Commands and exit codes") and one line naming the variable or flag, the value given
// and what is expected. Each case fails before any service or model is needed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'ki-config-errors-'));

function run(args: readonly string[], env: Readonly<Record<string, string>> = {}) {
  // Settings of the caller's shell (a dev stack's, CI's) are kept out: only `env` is set.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|SQS_|S3_|ELASTICSEARCH_|EMBEDDING_|SPLIT_|HTTP_PORT|FETCH_|LOCAL_STORE)/.test(name)));
  return spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    cwd: work,
    env: { ...clean, EMBEDDING_MODEL: '/nonexistent-model', LOCAL_STORE_PATH: path.join(work, 'store'), ...env },
    timeout: 30_000,
  });
}

describe('a bad setting is exit 2, naming the variable, the value and what is expected', () => {
  const cases: [string, string, string[], RegExp][] = [
    ['SPLIT_BY', 'foo', ['index', work], /SPLIT_BY \(split\.by\): must be one of word, sentence, passage, got "foo"/],
    ['HTTP_PORT', 'abc', ['worker'], /HTTP_PORT \(http\.port\): must be an integer from 0 to 65535, got "abc"/],
    ['FETCH_MAX_BYTES', '10 potatoes', ['worker'], /FETCH_MAX_BYTES \(fetch\.maxBytes\): must be a size .*\(512KiB, 10MB, 1GB\), got "10 potatoes"/],
    ['ELASTICSEARCH_URL', 'es.local:9200', ['reindex', 'status'], /ELASTICSEARCH_URL \(elasticsearch\.url\): must be an http:\/\/ or https:\/\/ URL.*, got "es\.local:9200"/],
    ['S3_FORCE_PATH_STYLE', 'yes', ['upload', work], /S3_FORCE_PATH_STYLE \(aws\.s3ForcePathStyle\): must be true or false, got "yes"/],
    ['SQS_WAIT_TIME_SECONDS', '30', ['search', 'q'], /SQS_WAIT_TIME_SECONDS \(sqs\.waitTimeSeconds\): must be an integer from 0 to 20, got "30"/],
  ];
  for (const [name, value, args, message] of cases) {
    test(`${name}=${value} keda-indexer ${args[0] ?? ''}`, () => {
      const result = run(args, { [name]: value });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
    });
  }

  test('a size with a unit is accepted (FETCH_MAX_BYTES=10MB reaches the command)', () => {
    const result = run(['search', 'q'], { FETCH_MAX_BYTES: '10MB' });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /keda-indexer search: no local index in /);
  });

  test('doctor: a bad setting fails the settings check with exit 2', () => {
    const result = run(['doctor'], { SPLIT_BY: 'foo' });
    assert.equal(result.status, 2, result.stdout + result.stderr);
    assert.match(result.stdout, /✗ settings .*\n\s+SPLIT_BY \(split\.by\): must be one of word, sentence, passage, got "foo"/);
  });

  test('a bad value in a --config file names the key, the file and the variable', () => {
    const file = path.join(work, 'indexer.yaml');
    writeFileSync(file, 'split:\n  by: foo\nfetch:\n  maxBytes: 10 potatoes\n');
    const result = run(['--config', file, 'search', 'q']);
    assert.equal(result.status, 2, result.stderr);
    assert.ok(result.stderr.includes(`split.by in ${file} (or SPLIT_BY): must be one of word, sentence, passage, got "foo"`), result.stderr);
    assert.ok(result.stderr.includes(`fetch.maxBytes in ${file} (or FETCH_MAX_BYTES): must be a size`), result.stderr);
  });
});

describe('a bad flag value is a usage error (exit 2) naming the flag, the value and what is expected', () => {
  const cases: [string[], RegExp][] = [
    [['search', 'q', '--k', 'abc'], /option '--k <n>' argument 'abc' is invalid\. It must be an integer from 1 to 1000\./],
    [['search', 'q', '--k', '0'], /option '--k <n>' argument '0' is invalid\. It must be an integer from 1 to 1000\./],
    [['bootstrap', '--dims', 'abc'], /option '--dims <n>' argument 'abc' is invalid\. It must be an integer from 1 to 4096\./],
    [['bootstrap', '--max-receive-count', '0'], /option '--max-receive-count <n>' argument '0' is invalid\. It must be an integer from 1 to 1000\./],
    [['reindex', 'create', '--model', 'Xenova/e5-small-v2', '--dims', '384.5'], /option '--dims <n>' argument '384\.5' is invalid\. It must be an integer from 1 to 4096\./],
    [['reindex', 'create', '--model', 'Xenova/e5-small-v2', '--dtype', 'int4'], /option '--dtype <dtype>' argument 'int4' is invalid\. Allowed choices are fp32, fp16, q8\./],
    [['reindex', 'verify', '--max-chunk-ratio', '0.5'], /option '--max-chunk-ratio <n>' argument '0\.5' is invalid\. It must be a number ≥ 1\./],
    [['reindex', 'flip', '--max-chunk-ratio', 'x'], /option '--max-chunk-ratio <n>' argument 'x' is invalid\. It must be a number ≥ 1\./],
    [['backfill', 's3://docs/', '--dry-run', '--max-size', '10 potatoes'], /option '--max-size <size>' argument '10 potatoes' is invalid\. It must be a size/],
    [['dlq', 'list', '--max', '0'], /option '--max <n>' argument '0' is invalid\. It must be an integer ≥ 1\./],
    [['dlq', 'list', '--max', 'ten'], /option '--max <n>' argument 'ten' is invalid\. It must be an integer ≥ 1\./],
    [['dlq', 'list', '--reason', 'too-large'], /option '--reason <reason>' argument 'too-large' is invalid\. Allowed choices are malformed_message, /],
    [['redrive', '--reason', 'too-large'], /option '--reason <reason>' argument 'too-large' is invalid\. Allowed choices are malformed_message, /],
    [['backfill', 's3://docs/', '--dry-run', '--max-rate', 'fast'], /option '--max-rate <n>' argument 'fast' is invalid\. It must be a number above 0\./],
  ];
  for (const [args, message] of cases) {
    test(args.join(' '), () => {
      const result = run(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
    });
  }
});
