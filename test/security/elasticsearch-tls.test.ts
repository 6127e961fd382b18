// Elasticsearch as production runs it: HTTPS with a private CA, API-key or basic auth. The built
// CLI indexes into and searches a real node with security and TLS on (scripts/es-tls), and the
// ways it goes wrong (no CA certificate, a wrong API key) fail loudly instead of indexing.
// Run through `npm test -- security`, or by hand:
//   eval "$(scripts/es-tls up)"; EMBEDDING_MODEL="$(scripts/fetch-model)" npm run build &&
//   node --import tsx --test test/security/elasticsearch-tls.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { CLI } from '../support/cli.js';
import { deleteIndexFamily } from '../support/indices.js';

function required(name: string, hint: string): string {
  const value = process.env[name] ?? '';
  if (value === '') throw new Error(`${name} is not set: ${hint}`);
  return value;
}
const fromEsTls = 'run eval "$(scripts/es-tls up)" first';
const url = required('ELASTICSEARCH_TLS_URL', fromEsTls);
const caCert = required('ELASTICSEARCH_TLS_CA_CERT', fromEsTls);
const apiKey = required('ELASTICSEARCH_TLS_API_KEY', fromEsTls);
const username = required('ELASTICSEARCH_TLS_USERNAME', fromEsTls);
const password = required('ELASTICSEARCH_TLS_PASSWORD', fromEsTls);
const model = required('EMBEDDING_MODEL', 'set it to the folder scripts/fetch-model prints');

const run = `${process.pid}-${Date.now().toString(36)}`;
const work = mkdtempSync(path.join(tmpdir(), 'ki-es-tls-'));
const docs = path.join(work, 'docs');
const indices: string[] = [];
function indexName(what: string): string {
  const name = `ki-tls-${what}-${run}`;
  indices.push(name);
  return name;
}

// An admin client of the same cluster for checks and cleanup, verifying the server with the CA.
const admin = new Client({ node: url, auth: { apiKey }, tls: { ca: readFileSync(caCert) } });

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI with only the Elasticsearch settings given (nothing inherited from a dev stack). */
function cli(settings: Record<string, string>, ...args: string[]): Result {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ELASTICSEARCH_') && key !== 'LOG_LEVEL'));
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...env, EMBEDDING_MODEL: model, ELASTICSEARCH_URL: url, ...settings },
    encoding: 'utf8',
    cwd: work,
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonHit {
  content: string;
  file_path: string;
}

function assertFinds(settings: Record<string, string>, query: string, file: string, text: RegExp): void {
  const result = cli(settings, 'search', query, '--k', '2', '--json');
  assert.equal(result.status, 0, result.stderr);
  const hits = JSON.parse(result.stdout) as JsonHit[];
  assert.equal(hits[0]?.file_path, path.join(docs, file), result.stdout);
  assert.match(hits[0].content, text);
}

function assertFailedToIndex(result: Result): void {
  assert.notEqual(result.status, 0, `expected a failure, got exit 0:\n${result.stdout}\n${result.stderr}`);
  assert.doesNotMatch(result.stdout, /Indexed \d+ file/);
}

describe('Elasticsearch over TLS with a CA certificate', () => {
  before(() => {
    rmSync(docs, { recursive: true, force: true });
    writeFileSync(path.join(work, 'placeholder'), '');
    spawnSync('mkdir', ['-p', docs]);
    writeFileSync(path.join(docs, 'lighthouses.txt'), 'Lighthouses warn ships of rocks with a rotating beam of light visible for miles at night.');
    writeFileSync(path.join(docs, 'glaciers.txt'), 'Glaciers are rivers of ice that carve valleys as they creep down mountains over centuries.');
  });

  after(async () => {
    await deleteIndexFamily(admin, indices).catch(() => undefined);
    await admin.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('the cluster requires authentication and speaks only HTTPS', async () => {
    const anonymous = new Client({ node: url, tls: { ca: readFileSync(caCert) }, maxRetries: 0 });
    await assert.rejects(anonymous.cluster.health(), (error: Error & { meta?: { statusCode?: number } }) => error.meta?.statusCode === 401);
    await anonymous.close();
    assert.match(url, /^https:\/\//);
    const plain = new Client({ node: url.replace(/^https:/, 'http:'), auth: { apiKey }, maxRetries: 0, requestTimeout: 5000 });
    await assert.rejects(plain.cluster.health());
    await plain.close();
  });

  test('index with ELASTICSEARCH_CA_CERT and ELASTICSEARCH_API_KEY, then search --json finds the document', async () => {
    const settings = { ELASTICSEARCH_INDEX: indexName('apikey'), ELASTICSEARCH_CA_CERT: caCert, ELASTICSEARCH_API_KEY: apiKey };
    const result = cli(settings, 'index', docs);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Indexed 2 file\(s\) \(\d+ chunks\), 0 unchanged, 0 removed, 0 failed .*into Elasticsearch index/);
    assertFinds(settings, 'which light source guides ships at night', 'lighthouses.txt', /rotating beam/);
    await admin.indices.refresh({ index: settings.ELASTICSEARCH_INDEX });
    assert.equal((await admin.count({ index: settings.ELASTICSEARCH_INDEX })).count, 2);
  });

  test('the same with ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD', () => {
    const settings = {
      ELASTICSEARCH_INDEX: indexName('basic'),
      ELASTICSEARCH_CA_CERT: caCert,
      ELASTICSEARCH_USERNAME: username,
      ELASTICSEARCH_PASSWORD: password,
    };
    const result = cli(settings, 'index', docs);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Indexed 2 file\(s\)/);
    assertFinds(settings, 'ice carving mountain valleys', 'glaciers.txt', /rivers of ice/);
  });

  test('without the CA certificate it fails with a TLS certificate error', async () => {
    const index = indexName('noca');
    const result = cli({ ELASTICSEARCH_INDEX: index, ELASTICSEARCH_API_KEY: apiKey }, 'index', docs);
    assertFailedToIndex(result);
    assert.match(result.stderr, /certificate/i);
    assert.match(result.stderr, new RegExp(url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')));
    assert.equal(await admin.indices.exists({ index }), false, 'nothing was created');
  });

  test('a wrong API key fails with HTTP 401', async () => {
    const index = indexName('badkey');
    const wrongKey = Buffer.from('not-a-key-id:not-the-secret').toString('base64');
    const result = cli({ ELASTICSEARCH_INDEX: index, ELASTICSEARCH_CA_CERT: caCert, ELASTICSEARCH_API_KEY: wrongKey }, 'index', docs);
    assertFailedToIndex(result);
    assert.match(result.stderr, /\b401\b/);
    assert.ok(!result.stderr.includes(wrongKey), 'the key is not echoed');
    assert.equal(await admin.indices.exists({ index }), false, 'nothing was created');
  });

  test('a wrong password fails with HTTP 401 too', () => {
    const settings = {
      ELASTICSEARCH_INDEX: indexName('badpass'),
      ELASTICSEARCH_CA_CERT: caCert,
      ELASTICSEARCH_USERNAME: username,
      ELASTICSEARCH_PASSWORD: `${password}-wrong`,
    };
    const result = cli(settings, 'index', docs);
    assertFailedToIndex(result);
    assert.match(result.stderr, /\b401\b/);
    assert.ok(!result.stderr.includes(settings.ELASTICSEARCH_PASSWORD), 'the password is not echoed');
  });
});
