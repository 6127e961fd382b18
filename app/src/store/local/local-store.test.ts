import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { chunkIdOf, sourceIdOf, type ChunkDocument } from '../document.js';
import { LocalStore, LocalStoreError } from './local-store.js';
import { modelRecordOf } from '../model-record.js';
import type { ChunkStore } from '../port.js';

const DIMS = 4;
const axis = (i: number): number[] => Array.from({ length: DIMS }, (_, d) => (d === i ? 1 : 0));

function docs(filePath: string, vectors: number[][]): ChunkDocument[] {
  const sourceId = sourceIdOf(filePath);
  return vectors.map((embedding, splitId) => ({
    id: chunkIdOf(sourceId, splitId),
    content: `${filePath} chunk ${splitId}`,
    embedding,
    file_path: filePath,
    source_id: sourceId,
    split_id: splitId,
    split_idx_start: 0,
    content_type: 'text/plain',
    indexed_at: '2026-01-01T00:00:00.000Z',
  }));
}

const modelOf = (model: string, prefixes: { passagePrefix?: string; queryPrefix?: string } = {}) =>
  modelRecordOf({ model, dtype: 'fp32', passagePrefix: prefixes.passagePrefix ?? '', queryPrefix: prefixes.queryPrefix ?? '' }, DIMS);

const folder = () => path.join(mkdtempSync(path.join(tmpdir(), 'ki-store-')), 'store');

describe('LocalStore', () => {
  test('finds the nearest chunks, survives a reopen, and keeps what each file was made from', async () => {
    const dir = folder();
    const store = await LocalStore.open(dir, modelOf('model-a'));
    await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(0), axis(1)])], { etag: 'local:10:1', indexSettings: 'fp' });
    await store.write(await store.claim('/b.txt'), [docs('/b.txt', [axis(2)])], { etag: 'local:20:2', indexSettings: 'fp' });
    await store.save();

    const reopened = await LocalStore.open(dir, modelOf('model-a'));
    assert.equal(reopened.chunkCount, 3);
    const hits = reopened.nearest(Float32Array.from([0.1, 0.9, 0, 0]), 2);
    assert.deepEqual(hits.map((hit) => hit.chunk.content), ['/a.txt chunk 1', '/a.txt chunk 0']);
    assert.ok(hits.map((hit) => hit.score).every((score, i, all) => i === 0 || score < (all[i - 1] ?? 0)), 'best first');
    assert.deepEqual(reopened.fileEntry('/b.txt'), { sourceId: sourceIdOf('/b.txt'), chunks: 1, provenance: { etag: 'local:20:2', indexSettings: 'fp' } });
    assert.deepEqual(await reopened.indexedFrom('/b.txt'), { etag: 'local:20:2', indexSettings: 'fp', chunks: 1 });
    assert.equal(await reopened.indexedFrom('/c.txt'), undefined);
  });

  test('re-writing a file replaces its chunks; removing it drops them', async () => {
    const dir = folder();
    const store = await LocalStore.open(dir, modelOf('m'));
    await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(0), axis(1), axis(2)])]);
    const result = await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(3)])]);
    assert.deepEqual(result, { written: 1, staleDeleted: 2, superseded: false });
    assert.equal(store.chunkCount, 1);
    assert.deepEqual(await store.remove(await store.claim('/a.txt')), { removed: 1, superseded: false });
    assert.deepEqual(store.filePaths(), []);
    await store.save();
    assert.equal((await LocalStore.open(dir, modelOf('m'))).chunkCount, 0);
  });

  test('a file written in slices is recorded whole; one whose slice fails keeps its old chunks', async () => {
    const store = await LocalStore.open(folder(), modelOf('m'));
    const all = docs('/a.txt', [axis(0), axis(1), axis(2)]);
    const claim = await store.claim('/a.txt');
    assert.deepEqual(await store.write(claim, [all.slice(0, 2), all.slice(2)]), { written: 3, staleDeleted: 0, superseded: false });
    async function* failing() {
      yield await Promise.resolve(docs('/a.txt', [axis(3)]));
      throw new Error('model failed on the second slice');
    }
    await assert.rejects(store.write(claim, failing()), /second slice/);
    assert.equal(store.fileEntry('/a.txt')?.chunks, 3);
    assert.deepEqual(store.nearest(Float32Array.from(axis(3)), 3).map((hit) => hit.score), [0, 0, 0], 'no chunk of the failed write');
  });

  test('claims are ordered: a write or removal under an older claim of the file is superseded', async () => {
    const store = await LocalStore.open(folder(), modelOf('m'));
    const first = await store.claim('/a.txt');
    const second = await store.claim('/a.txt');
    assert.deepEqual(await store.write(second, [docs('/a.txt', [axis(0)])]), { written: 1, staleDeleted: 0, superseded: false });
    assert.deepEqual(await store.write(first, [docs('/a.txt', [axis(1), axis(2)])]), { written: 0, staleDeleted: 0, superseded: true });
    assert.deepEqual(await store.remove(first), { removed: 0, superseded: true });
    const port: ChunkStore = store;
    assert.equal(await port.recordDeadLettered(first, 'corrupt'), false);
    assert.equal(store.fileEntry('/a.txt')?.chunks, 1, 'the later claim\'s chunks stay');
    // A claim taken while a write's slices are being made wins over that write.
    async function* slow() {
      yield docs('/a.txt', [axis(3)]);
      await store.claim('/a.txt');
    }
    assert.equal((await store.write(await store.claim('/a.txt'), slow())).superseded, true);
    assert.equal(store.fileEntry('/a.txt')?.chunks, 1);
  });

  test('a claim is only good in the store that issued it', async () => {
    const one = await LocalStore.open(folder(), modelOf('m'));
    const other = await LocalStore.open(folder(), modelOf('m'));
    await assert.rejects(other.write(await one.claim('/a.txt'), [docs('/a.txt', [axis(0)])]), /not taken from local store/);
    await assert.rejects(other.write({ filePath: '/a.txt', sourceId: sourceIdOf('/a.txt') }, []), /not taken from/);
  });

  test('search: filters apply before ranking, so k matching chunks come back', async () => {
    const store = await LocalStore.open(folder(), modelOf('m'));
    const pdf = docs('/a.pdf', [axis(0), axis(1)]).map((doc) => ({ ...doc, content_type: 'application/pdf' }));
    await store.write(await store.claim('/a.pdf'), [pdf]);
    await store.write(await store.claim('/b.txt'), [docs('/b.txt', [axis(0), axis(0), axis(0)])]);
    let asked: unknown;
    const result = await store.search({ text: 'q', k: 2, hybrid: true, filters: [{ field: 'content_type', op: 'any', values: ['application/pdf'] }] }, (target) => {
      asked = target;
      return Promise.resolve(Float32Array.from(axis(0)));
    });
    assert.deepEqual(asked, { name: store.folder, model: modelOf('m') }, 'the query is embedded with the store\'s model');
    assert.deepEqual(result.hits.map((hit) => hit.file_path), ['/a.pdf', '/a.pdf'], 'the three nearer text chunks are filtered out, not cut from k');
  });

  test('a save leaves exactly one generation of data files', async () => {
    const dir = folder();
    const store = await LocalStore.open(dir, modelOf('m'));
    await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(0)])]);
    await store.save();
    await store.save();
    assert.deepEqual(readdirSync(dir).sort(), ['chunks-2.jsonl', 'manifest.json', 'vectors-2.f32']);
  });

  test('a store built with another model is refused with a fix', async () => {
    const dir = folder();
    const store = await LocalStore.open(dir, modelOf('model-a'));
    await store.save();
    await assert.rejects(LocalStore.open(dir, modelOf('model-b')), (error: unknown) => error instanceof LocalStoreError && /model-a.*LOCAL_STORE_PATH/.test(error.message));
  });

  test('the same model under its other name is the same model: hub id and fetched folder, either way round', async () => {
    const hubId = 'Xenova/all-MiniLM-L6-v2';
    const fetched = '/root/.cache/keda-indexer/models/all-MiniLM-L6-v2';
    for (const [first, second] of [
      [hubId, fetched],
      [fetched, hubId],
    ] as const) {
      const dir = folder();
      const store = await LocalStore.open(dir, modelOf(first));
      await store.write(await store.claim('a.txt'), [docs('a.txt', [axis(0)])]);
      await store.save();
      const reopened = await LocalStore.open(dir, modelOf(second));
      assert.equal(reopened.chunkCount, 1);
      // The store keeps what it was built with.
      assert.equal(reopened.model, first);
      assert.equal((await LocalStore.openExisting(dir)).record?.name, 'all-minilm-l6-v2');
    }
  });

  test('the same model with other prefixes is refused: its vectors would differ', async () => {
    const dir = folder();
    await (await LocalStore.open(dir, modelOf('intfloat/e5-small-v2', { passagePrefix: 'passage: ', queryPrefix: 'query: ' }))).save();
    await assert.rejects(LocalStore.open(dir, modelOf('/models/e5-small-v2')), (error: unknown) => error instanceof LocalStoreError && /passage prefix "passage: ", not ""/.test(error.message));
  });

  test('a store saved before the model was recorded matches by name and dims, and records it on the next save', async () => {
    const dir = folder();
    await (await LocalStore.open(dir, modelOf('Xenova/all-MiniLM-L6-v2'))).save();
    const manifestFile = path.join(dir, 'manifest.json');
    const { record, ...legacy } = JSON.parse(readFileSync(manifestFile, 'utf8')) as Record<string, unknown>;
    assert.ok(record !== undefined);
    writeFileSync(manifestFile, JSON.stringify(legacy));
    assert.equal((await LocalStore.openExisting(dir)).record, undefined);
    await assert.rejects(LocalStore.open(dir, modelOf('/models/e5-small-v2')), LocalStoreError);
    await (await LocalStore.open(dir, modelOf('/models/all-MiniLM-L6-v2'))).save();
    assert.equal((await LocalStore.openExisting(dir)).record?.source, 'Xenova/all-MiniLM-L6-v2');
  });

  test('searching a folder with no index says how to make one', async () => {
    await assert.rejects(LocalStore.openExisting(folder()), /keda-indexer index/);
  });

  test('the store is private: folder 0700, every file 0600, whatever the umask; an older store is made private on save', async () => {
    const previous = process.umask(0o022);
    try {
      const dir = folder();
      const store = await LocalStore.open(dir, modelOf('model-a'));
      await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(0)])]);
      await store.save();
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const name of readdirSync(dir)) assert.equal(statSync(path.join(dir, name)).mode & 0o777, 0o600, name);

      // A store saved by an older version, world-readable: the next save closes it.
      chmodSync(dir, 0o755);
      for (const name of readdirSync(dir)) chmodSync(path.join(dir, name), 0o644);
      const reopened = await LocalStore.open(dir, modelOf('model-a'));
      await reopened.save();
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const name of readdirSync(dir)) assert.equal(statSync(path.join(dir, name)).mode & 0o777, 0o600, name);

      // A folder of the user's that holds a new store keeps its own mode; the files are private.
      const own = path.join(mkdtempSync(path.join(tmpdir(), 'ki-store-')), 'mine');
      mkdirSync(own, { mode: 0o755 });
      chmodSync(own, 0o755);
      const inOwn = await LocalStore.open(own, modelOf('model-a'));
      await inOwn.save();
      assert.equal(statSync(own).mode & 0o777, 0o755);
      for (const name of readdirSync(own)) assert.equal(statSync(path.join(own, name)).mode & 0o777, 0o600, name);
    } finally {
      process.umask(previous);
    }
  });

  test('a save taken while files are written holds exactly what was there at the call; saves run in order', async () => {
    const dir = folder();
    const store = await LocalStore.open(dir, modelOf('model-a'));
    await store.write(await store.claim('/a.txt'), [docs('/a.txt', [axis(0)])]);
    const first = store.save();
    // Written while the first save is on its way: not in it, in the next.
    await store.write(await store.claim('/b.txt'), [docs('/b.txt', [axis(1)])]);
    await first;
    const afterFirst = await LocalStore.openExisting(dir);
    assert.deepEqual(afterFirst.filePaths(), ['/a.txt']);
    assert.equal(afterFirst.chunkCount, 1);
    await Promise.all([store.save(), store.save()]);
    const afterAll = await LocalStore.openExisting(dir);
    assert.deepEqual(afterAll.filePaths().sort(), ['/a.txt', '/b.txt']);
    assert.equal(afterAll.chunkCount, 2);
    // One generation left on disk: the saves did not delete each other's files.
    assert.equal(readdirSync(dir).filter((name) => /^(chunks|vectors)-/.test(name)).length, 2);
  });
});
