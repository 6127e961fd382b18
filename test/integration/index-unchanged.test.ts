// `index` against the real Elasticsearch of the dev stack skips files unchanged since they were
// indexed, as it does against the local store: same size and modification time, same model and
// split settings. A touched file, or other split settings, index it again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { deleteIndexFamily } from '../support/indices.js';
import { CLI, chunksByFile, es, uniqueName } from '../support/stack.js';

const work = mkdtempSync(path.join(tmpdir(), 'ki-unchanged-'));
const docs = path.join(work, 'docs');
const alias = uniqueName('unchanged');

function index(env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'index', docs], {
    env: { ...process.env, ELASTICSEARCH_INDEX: alias, ...env },
    encoding: 'utf8',
    cwd: work,
    timeout: 180_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('index against Elasticsearch', () => {
  after(async () => {
    await deleteIndexFamily(es, alias);
    rmSync(work, { recursive: true, force: true });
  });

  test('skips unchanged files, and indexes again a touched file or all files under other split settings', async () => {
    mkdirSync(docs, { recursive: true });
    const kelp = path.join(docs, 'kelp.txt');
    writeFileSync(kelp, 'Kelp forests grow in cold coastal water and shelter sea otters, urchins and many fish.');
    writeFileSync(path.join(docs, 'geysers.md'), '# Geysers\n\nGeysers erupt when groundwater heated by magma boils under a narrow vent.');

    const first = index();
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /Indexed 2 file\(s\) \(\d+ chunks\), 0 unchanged/);

    const second = index();
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /Indexed 0 file\(s\) \(0 chunks\), 2 unchanged/);
    assert.doesNotMatch(second.stderr, /^indexed /m);

    // Same content, new modification time: the tag differs, so the file is read and indexed again.
    const later = new Date(Date.now() + 60_000);
    utimesSync(kelp, later, later);
    const touched = index();
    assert.equal(touched.status, 0, touched.stderr);
    assert.match(touched.stdout, /Indexed 1 file\(s\) \(\d+ chunks\), 1 unchanged/);
    assert.match(touched.stderr, /^indexed {3}.*kelp\.txt/m);

    const resplit = index({ SPLIT_LENGTH: '50' });
    assert.equal(resplit.status, 0, resplit.stderr);
    assert.match(resplit.stdout, /Indexed 2 file\(s\) \(\d+ chunks\), 0 unchanged/);

    const byFile = await chunksByFile(`${alias}-v1-all-minilm-l6-v2`);
    assert.equal(byFile.size, 2, 'one set of chunks per file, whatever was indexed again');
  });
});
