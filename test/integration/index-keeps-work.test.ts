// `index` on the local store keeps what it did (issue #27, part 5), spawned as a user runs it with
// the real model: a folder that cannot be read is reported and skipped, and the files under it
// keep their chunks; FETCH_MAX_BYTES refuses a file before it is read; a run killed with SIGKILL
// halfway keeps every file saved at its last checkpoint, and the next run picks up from there.
//
// Permissions do not stop root, and CI runs as root: there the CLI runs as `nobody`, with a copy of
// the model it can read.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { LocalStore } from '../../app/src/store/local/local-store.js';
import { CLI } from '../support/cli.js';
import { minilmModel } from '../support/models.js';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const work = mkdtempSync(path.join(tmpdir(), 'ki-keeps-'));
let model = '';

before(() => {
  chmodSync(work, 0o755);
  model = minilmModel();
  if (asRoot) {
    // A copy nobody can read (the cache lives under /root, 0700).
    model = path.join(work, 'model');
    cpSync(minilmModel(), model, { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', model]);
  }
});

after(() => {
  spawnSync('chmod', ['-R', 'u+rwX', work]);
  rmSync(work, { recursive: true, force: true });
});

/** A folder the CLI's user owns. */
function ownFolder(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  return dir;
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  if (asRoot) {
    chownSync(path.dirname(file), NOBODY, NOBODY);
    chownSync(file, NOBODY, NOBODY);
  }
}

function options(store: string, extra: Record<string, string>): SpawnOptions {
  return {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, EMBEDDING_MODEL: model, LOCAL_STORE_PATH: store, WORKER_CONCURRENCY: '1', ...extra },
    cwd: work,
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  };
}

function index(store: string, docs: string, extra: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, 'index', docs], { ...options(store, extra), encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('an unreadable folder is reported and skipped; its files keep their chunks; the rest is indexed', async () => {
  const docs = ownFolder('unreadable/docs');
  const store = path.join(ownFolder('unreadable'), 'store');
  write(path.join(docs, 'a', 'lighthouses.txt'), 'Lighthouses warn ships of rocks with a rotating beam of light.');
  write(path.join(docs, 'b', 'comets.txt'), 'Comets are icy bodies whose tails always point away from the sun.');
  const first = index(store, docs);
  assert.equal(first.status, 0, first.stderr);

  const locked = path.join(docs, 'b');
  chmodSync(locked, 0o000);
  try {
    write(path.join(docs, 'c', 'volcanoes.txt'), 'Volcanoes erupt when magma rises through the crust.');
    const second = index(store, docs);
    assert.equal(second.status, 1, second.stderr);
    assert.match(second.stderr, new RegExp(`^failed {4}${locked}: cannot be read \\(EACCES\\); skipped, its chunks kept$`, 'm'));
    assert.match(second.stderr, /^indexed {3}.*volcanoes\.txt \(1 chunks\)$/m);
    assert.match(second.stdout, /Indexed 1 file\(s\) \(1 chunks\), 1 unchanged, 0 removed, 1 failed/);
    assert.doesNotMatch(second.stderr, /^removed/m, 'a file not seen because its folder is unreadable is not gone');
  } finally {
    chmodSync(locked, 0o755);
  }
  const saved = await LocalStore.openExisting(store);
  assert.deepEqual(saved.filePaths().map((file) => path.relative(docs, file)).sort(), ['a/lighthouses.txt', 'b/comets.txt', 'c/volcanoes.txt']);
});

test('FETCH_MAX_BYTES refuses a larger file before reading it', () => {
  const docs = ownFolder('capped/docs');
  const store = path.join(ownFolder('capped'), 'store');
  write(path.join(docs, 'small.txt'), 'Glaciers carve valleys as they creep downhill.');
  // Unreadable as well as too large: refused as too_large, so it was never opened.
  const big = path.join(docs, 'big.txt');
  write(big, 'x'.repeat(5000));
  chmodSync(big, 0o000);
  const result = index(store, docs, { FETCH_MAX_BYTES: '4KiB' });
  chmodSync(big, 0o644);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /^failed {4}.*big\.txt: too_large: big\.txt is 5000 bytes, over the 4096-byte limit \(FETCH_MAX_BYTES\)$/m);
  assert.match(result.stdout, /Indexed 1 file\(s\)/);
});

test('a run killed with SIGKILL halfway keeps every file saved at its last checkpoint; the store is private', async () => {
  const docs = ownFolder('killed/docs');
  const store = path.join(ownFolder('killed'), 'store');
  const topics = ['rivers', 'deserts', 'forests', 'oceans', 'glaciers', 'volcanoes', 'islands', 'canyons', 'prairies', 'reefs'];
  const names: string[] = [];
  for (let i = 0; i < 40; i++) {
    const name = `${String(i).padStart(2, '0')}-${topics[i % topics.length] ?? ''}.txt`;
    names.push(name);
    write(path.join(docs, name), `Note ${i} about ${topics[i % topics.length] ?? ''}: a short paragraph of plain text for the index.`);
  }
  const child = spawn(process.execPath, [CLI, 'index', docs], { ...options(store, { LOCAL_STORE_CHECKPOINT_FILES: '4' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let savedUpTo = 0;
  const killedAtCheckpoint = new Promise<void>((resolve) => {
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
      // The second checkpoint: then kill, while the run is still going.
      const saves = [...stderr.matchAll(/^saved {5}.* \((\d+) file\(s\) indexed so far\)$/gm)];
      if (saves.length >= 2 && savedUpTo === 0) {
        savedUpTo = stderr.indexOf(saves[1]?.[0] ?? '');
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  const [code, signal] = (await Promise.race([once(child, 'exit'), killedAtCheckpoint.then(() => once(child, 'exit'))])) as [number | null, string | null];
  assert.equal(signal, 'SIGKILL', `the run ended by itself (exit ${String(code)}) before it was killed:\n${stderr}`);

  // Every file reported indexed before that checkpoint line is in the saved store.
  const indexedBefore = [...stderr.slice(0, savedUpTo).matchAll(/^indexed {3}(.*) \(\d+ chunks\)$/gm)].map((match) => path.basename(match[1] ?? ''));
  assert.equal(indexedBefore.length, 8, stderr);
  const saved = await LocalStore.openExisting(store);
  const savedNames = saved.filePaths().map((file) => path.basename(file));
  for (const name of indexedBefore) assert.ok(savedNames.includes(name), `${name} was saved before the kill`);
  assert.ok(savedNames.length < names.length, 'killed halfway');
  assert.equal(saved.chunkCount, savedNames.length);

  assert.equal(statSync(store).mode & 0o777, 0o700);
  for (const name of readdirSync(store)) assert.equal(statSync(path.join(store, name)).mode & 0o777, 0o600, name);

  // The next run takes it from there: what was saved is unchanged, the rest indexed.
  const resumed = index(store, docs);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`Indexed ${names.length - savedNames.length} file\\(s\\) .*, ${savedNames.length} unchanged, 0 removed, 0 failed`));
  assert.equal((await LocalStore.openExisting(store)).filePaths().length, names.length);
});
