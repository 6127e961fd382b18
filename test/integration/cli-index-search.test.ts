// `index` and `search` on the embedded local store, spawned as a user runs them (no TTY, so the
// plain-line output), with the real model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makePdf } from '../fixtures/documents.js';
import { CLI } from '../support/cli.js';
import { minilmModel } from '../support/models.js';

const work = mkdtempSync(path.join(tmpdir(), 'ki-cli-'));
const docs = path.join(work, 'docs');
const env = { ...process.env, LOCAL_STORE_PATH: path.join(work, 'store'), ELASTICSEARCH_URL: '', LOG_LEVEL: undefined };

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', cwd: work });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonHit {
  score: number;
  content: string;
  file_path: string;
  page_number?: number;
  page_end?: number;
}

describe('index and search on the local store', () => {
  test('a folder with one corrupt PDF indexes the rest and reports that one', async () => {
    writeFileSync(path.join(work, 'placeholder'), '');
    rmSync(docs, { recursive: true, force: true });
    const sub = path.join(docs, 'sub');
    spawnSync('mkdir', ['-p', sub]);
    writeFileSync(path.join(docs, 'lighthouses.txt'), 'Lighthouses warn ships of rocks with a rotating beam of light visible for miles at night.');
    writeFileSync(path.join(sub, 'comets.md'), '# Comets\n\nComets are icy bodies whose tails of gas and dust always point away from the sun.');
    writeFileSync(path.join(docs, 'atlas.pdf'), await makePdf(['Maps of the world', 'The Andes run along the western edge of South America.']));
    writeFileSync(path.join(docs, 'broken.pdf'), (await makePdf(['lost'])).subarray(0, 200));
    writeFileSync(path.join(docs, 'ignored.gif'), 'not a supported type, not picked up from a folder');

    const result = cli('index', docs);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^failed {4}.*broken\.pdf: corrupt: /m);
    assert.match(result.stderr, /^indexed {3}.*lighthouses\.txt \(1 chunks\)$/m);
    assert.match(result.stdout, /Indexed 3 file\(s\) \(\d+ chunks\), 0 unchanged, 0 removed, 1 failed/);
    assert.ok(!result.stderr.includes('\u001b['), 'no terminal control codes when not on a TTY');
    assert.doesNotMatch(result.stderr + result.stdout, /ignored\.gif/);
  });

  test('search --json returns hits with score, content, file and page, best first', () => {
    const result = cli('search', 'which mountains are in South America', '--k', '2', '--json');
    assert.equal(result.status, 0, result.stderr);
    const hits = JSON.parse(result.stdout) as JsonHit[];
    const [first, second] = hits;
    assert.ok(first && second, 'two hits');
    assert.equal(first.file_path, path.join(docs, 'atlas.pdf'));
    // The Andes are on page 2; split within pages (the default), the chunk is page 2 alone.
    assert.deepEqual([first.page_number, first.page_end], [2, 2]);
    assert.match(first.content, /Andes/);
    assert.doesNotMatch(first.content, /Maps of the world/);
    assert.ok(first.score >= second.score);
  });

  test('human output names file, page and a snippet', () => {
    const result = cli('search', 'icy bodies with tails', '--k', '1');
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^1\. docs\/sub\/comets\.md {2}\(score 0\.\d{3}\)\n {3}Comets/m);
  });

  test('with SPLIT_WITHIN_PAGES=false a chunk runs across pages and search shows its page range', async () => {
    const folder = path.join(work, 'across');
    spawnSync('mkdir', ['-p', folder]);
    writeFileSync(path.join(folder, 'atlas.pdf'), await makePdf(['Maps of the world', 'The Andes run along the western edge of South America.']));
    const across = { ...env, LOCAL_STORE_PATH: path.join(work, 'across-store'), SPLIT_WITHIN_PAGES: 'false' };
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env: across, encoding: 'utf8', cwd: work });
    assert.equal(run('index', folder).status, 0);
    const [hit] = JSON.parse(run('search', 'which mountains are in South America', '--k', '1', '--json').stdout) as JsonHit[];
    assert.deepEqual([hit?.page_number, hit?.page_end], [1, 2]);
    assert.match(run('search', 'which mountains are in South America', '--k', '1').stdout, /^1\. across\/atlas\.pdf, pages 1–2 {2}\(score/m);
  });

  test('re-running skips unchanged files, re-indexes edited ones and removes deleted ones', () => {
    rmSync(path.join(docs, 'broken.pdf'));
    const lighthouse = path.join(docs, 'lighthouses.txt');
    writeFileSync(lighthouse, 'Lighthouse keepers trimmed wicks and wound the clockwork that turned the lens.');
    utimesSync(lighthouse, new Date(), new Date(Date.now() + 5000));
    rmSync(path.join(docs, 'sub', 'comets.md'));
    const result = cli('index', docs);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Indexed 1 file\(s\) \(1 chunks\), 1 unchanged, 1 removed, 0 failed/);
    const hits = JSON.parse(cli('search', 'comets', '--json', '--k', '5').stdout) as JsonHit[];
    assert.ok(hits.every((hit) => !hit.file_path.endsWith('comets.md')), 'deleted file is gone from the index');
    assert.ok(hits.some((hit) => hit.content.includes('clockwork')), 'edited file has its new text');
    assert.ok(hits.every((hit) => !hit.content.includes('rotating beam')), 'edited file lost its old text');
  });

  test('on a terminal, index shows a progress bar with files, chunks, rate and ETA, and failures after it', async () => {
    // `script` gives the CLI a real pseudo-terminal, as a person's shell would.
    const tty = path.join(work, 'tty');
    spawnSync('mkdir', ['-p', tty]);
    writeFileSync(path.join(tty, 'a.txt'), 'Kites fly when wind lifts their sails against the string.');
    writeFileSync(path.join(tty, 'b.md'), '# Tea\n\nGreen tea leaves are steamed, black tea leaves are oxidised.');
    writeFileSync(path.join(tty, 'bad.pdf'), (await makePdf(['x'])).subarray(0, 100));
    const command = `'${process.execPath}' '${CLI}' index '${tty}'`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      env: { ...env, LOCAL_STORE_PATH: path.join(work, 'tty-store'), COLUMNS: '120' },
      encoding: 'utf8',
      cwd: work,
    });
    assert.equal(result.status, 1, result.stdout);
    assert.match(result.stdout, /indexing \[[^\]]*\] 3\/3 files \| 2 chunks \| [\d.]+ files\/s \| ETA /);
    assert.match(result.stdout, /failed {4}.*bad\.pdf: corrupt/);
    assert.doesNotMatch(result.stdout, /^indexed {3}/m, 'no per-file lines under a progress bar');
  });

  test('a wrong setting names the setting, the value and what is expected', () => {
    const result = spawnSync(process.execPath, [CLI, 'search', 'x'], { env: { ...env, EMBEDDING_DEVICE: 'tpu' }, encoding: 'utf8', cwd: work });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /embedding\.device.*tpu/s);
  });

  test('a store indexed under one name of the model is searched under its other name: hub id and fetched folder, either way round', () => {
    // The hub id loads from a hub cache holding the fetched folder (the hub is out of reach here),
    // so both names are the same files and must give the same hits.
    const hubCache = path.join(work, 'hub-cache');
    mkdirSync(path.join(hubCache, 'Xenova'), { recursive: true });
    symlinkSync(minilmModel(), path.join(hubCache, 'Xenova', 'all-MiniLM-L6-v2'));
    const small = path.join(work, 'two-names');
    mkdirSync(small);
    writeFileSync(path.join(small, 'lighthouses.txt'), 'Lighthouses warn ships of rocks with a rotating beam of light visible for miles at night.');
    writeFileSync(path.join(small, 'bees.md'), '# Bees\n\nHoney bees dance to tell the hive where flowers are.');
    const names = { hub: 'Xenova/all-MiniLM-L6-v2', folder: minilmModel() };
    for (const [indexedWith, searchedWith] of [
      ['hub', 'folder'],
      ['folder', 'hub'],
    ] as const) {
      const run = (model: string, ...args: string[]) =>
        spawnSync(process.execPath, [CLI, ...args], {
          env: { ...env, LOCAL_STORE_PATH: path.join(work, `by-${indexedWith}`), EMBEDDING_MODEL: model, EMBEDDING_CACHE_DIR: hubCache },
          encoding: 'utf8',
          cwd: work,
        });
      const indexed = run(names[indexedWith], 'index', small);
      assert.equal(indexed.status, 0, indexed.stderr);
      const same = run(names[indexedWith], 'search', 'a light for ships at night', '--json');
      const other = run(names[searchedWith], 'search', 'a light for ships at night', '--json');
      assert.equal(other.status, 0, `indexed with the ${indexedWith}, searched with the ${searchedWith}: ${other.stderr}`);
      const hits = JSON.parse(other.stdout) as JsonHit[];
      assert.ok(hits.length > 0);
      assert.deepEqual(hits, JSON.parse(same.stdout) as JsonHit[], 'the same model under either name finds the same hits');
      // Indexing again under the other name keeps the store: it is the same model.
      const again = run(names[searchedWith], 'index', small);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /0 failed/);
      assert.match(again.stdout, /2 unchanged/, 'nothing re-indexed for a change of name alone');
    }
  });

  test('searching before indexing says how to index', () => {
    const result = spawnSync(process.execPath, [CLI, 'search', 'anything'], {
      env: { ...env, LOCAL_STORE_PATH: path.join(work, 'nothing-here') },
      encoding: 'utf8',
      cwd: work,
    });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no local index.*keda-indexer index/);
  });
});
