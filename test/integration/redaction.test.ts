// Credentials in ELASTICSEARCH_URL never reach the terminal: not in a configuration error, not
// where `index` says Elasticsearch is unusable, not in `doctor`'s report of a healthy cluster
// (against the dev stack's real Elasticsearch, which takes the URL's credentials and ignores them).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI } from '../support/cli.js';

const SECRET = 'hunter2-not-for-terminals';
const work = mkdtempSync(path.join(tmpdir(), 'ki-redact-'));

function cli(env: Record<string, string>, ...args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, HTTP_PORT: '0', ...env }, encoding: 'utf8', cwd: work, timeout: 120_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('credentials in ELASTICSEARCH_URL', () => {
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  test('a URL refused by the configuration check is echoed without them', () => {
    const result = cli({ ELASTICSEARCH_URL: `elastic:${SECRET}@es.local:9200` }, 'index', work);
    assert.equal(result.status, 2, result.output);
    assert.match(result.output, /ELASTICSEARCH_URL \(elasticsearch\.url\): must be an http:\/\/ or https:\/\/ URL .*got "\*\*\*@es\.local:9200"/);
    assert.ok(!result.output.includes(SECRET), result.output);
  });

  test('index, with Elasticsearch unreachable, names the URL without them', () => {
    writeFileSync(path.join(work, 'note.txt'), 'A short note to index.');
    const result = cli({ ELASTICSEARCH_URL: `http://elastic:${SECRET}@127.0.0.1:1` }, 'index', work);
    assert.equal(result.status, 1, result.output);
    assert.match(result.output, /Elasticsearch at http:\/\/\*\*\*@127\.0\.0\.1:1 is not usable/);
    assert.ok(!result.output.includes(SECRET), result.output);
  });

  test('doctor reports the healthy cluster without them', () => {
    const url = process.env.ELASTICSEARCH_URL ?? '';
    assert.notEqual(url, '', 'the dev stack sets ELASTICSEARCH_URL');
    const withCredentials = url.replace('://', `://elastic:${SECRET}@`);
    const result = cli({ ELASTICSEARCH_URL: withCredentials }, 'doctor');
    assert.match(result.output, /✓ elasticsearch +http:\/\/\*\*\*@\S+ cluster \S+ is (green|yellow)/, result.output);
    assert.ok(!result.output.includes(SECRET), result.output);
  });
});
