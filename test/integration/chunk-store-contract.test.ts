// The chunk-store port's contract (app/src/store/port.ts), run the same way against both adapters:
// real Elasticsearch of the dev stack and the local store in a temporary folder. Vectors are made
// up (4 dims, along the axes), so what is tested is the store, not a model.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../app/src/config/config.js';
import { buildRuntime } from '../../app/src/runtime.js';
import { chunkIdOf, sourceIdOf, type ChunkDocument } from '../../app/src/store/document.js';
import { modelRecordOf } from '../../app/src/store/model-record.js';
import { StoreRefusal, type ChunkStore, type SearchTarget, type StoreProvider } from '../../app/src/store/port.js';
import { deleteIndexFamily } from '../support/indices.js';
import { es, uniqueName } from '../support/stack.js';

const DIMS = 4;
const model = modelRecordOf({ model: 'contract-test-model', dtype: 'fp32', passagePrefix: '', queryPrefix: '' }, DIMS);
const axis = (i: number): number[] => Array.from({ length: DIMS }, (_, d) => (d === i ? 1 : 0));

function docs(filePath: string, contentType: string, vectors: number[][]): ChunkDocument[] {
  const sourceId = sourceIdOf(filePath);
  return vectors.map((embedding, splitId) => ({
    id: chunkIdOf(sourceId, splitId),
    content: `${path.basename(filePath)} chunk ${splitId} about volcanoes`,
    embedding,
    file_path: filePath,
    source_id: sourceId,
    split_id: splitId,
    split_idx_start: 0,
    content_type: contentType,
    indexed_at: '2026-01-01T00:00:00.000Z',
  }));
}

const alias = uniqueName('contract');
const folder = mkdtempSync(path.join(tmpdir(), 'ki-contract-'));
const adapters: { name: string; env: Record<string, string> }[] = [
  { name: 'elasticsearch', env: { ...(process.env as Record<string, string>), STORE: 'elasticsearch', ELASTICSEARCH_INDEX: alias } },
  { name: 'local', env: { ...(process.env as Record<string, string>), STORE: 'local', LOCAL_STORE_PATH: folder } },
];

after(async () => {
  await deleteIndexFamily(es, alias);
  rmSync(folder, { recursive: true, force: true });
  await es.close();
});

for (const adapter of adapters) {
  describe(`the ${adapter.name} store keeps the port's contract`, () => {
    let provider: StoreProvider;
    let store: ChunkStore;

    test('opens for writing, and the same claim/write/indexedFrom/remove cycle holds', async () => {
      provider = buildRuntime(loadConfig({ env: adapter.env })).store;
      store = await provider.openForWriting(model);
      const claim = await store.claim('/docs/a.pdf');
      assert.deepEqual(Object.keys(claim).sort(), ['filePath', 'sourceId'], 'a claim shows nothing of how the store orders writers');
      assert.equal(await store.indexedFrom('/docs/a.pdf'), undefined);
      const written = await store.write(claim, [docs('/docs/a.pdf', 'application/pdf', [axis(0), axis(1)])], { etag: 'e1', indexSettings: 'fp' });
      assert.deepEqual(written, { written: 2, staleDeleted: 0, superseded: false });
      assert.deepEqual(await store.indexedFrom('/docs/a.pdf'), { etag: 'e1', indexSettings: 'fp', chunks: 2 }, 'what the chunks were made from, and how many');
      const shorter = await store.write(await store.claim('/docs/a.pdf'), [docs('/docs/a.pdf', 'application/pdf', [axis(0)])], { etag: 'e2', indexSettings: 'fp' });
      assert.deepEqual(shorter, { written: 1, staleDeleted: 1, superseded: false });
      const gone = await store.write(await store.claim('/docs/gone.txt'), [docs('/docs/gone.txt', 'text/plain', [axis(2)])]);
      assert.equal(gone.written, 1);
      assert.deepEqual(await store.remove(await store.claim('/docs/gone.txt')), { removed: 1, superseded: false });
    });

    test('a later claim wins: writes and removals under an earlier one are superseded', async () => {
      const first = await store.claim('/docs/race.txt');
      const second = await store.claim('/docs/race.txt');
      assert.equal((await store.write(second, [docs('/docs/race.txt', 'text/plain', [axis(3)])])).superseded, false);
      assert.equal((await store.write(first, [docs('/docs/race.txt', 'text/plain', [axis(2), axis(2)])])).superseded, true);
      assert.equal((await store.remove(first)).superseded, true);
      assert.equal(await store.recordDeadLettered(first, 'corrupt'), false);
    });

    test('a claim from elsewhere is refused', async () => {
      await assert.rejects(store.write({ filePath: '/docs/x.txt', sourceId: sourceIdOf('/docs/x.txt') }, []), /was not taken from/);
    });

    test('search: the query is embedded with the store\'s model; filters apply before ranking, so k matching chunks come back', async () => {
      await store.write(await store.claim('/docs/b.txt'), [docs('/docs/b.txt', 'text/plain', [axis(0), axis(0), axis(0)])]);
      await store.flush();
      const targets: SearchTarget[] = [];
      const embed = (target: SearchTarget) => {
        targets.push(target);
        return Promise.resolve(Float32Array.from(axis(0)));
      };
      const unfiltered = await store.search({ text: 'volcanoes', k: 2, hybrid: false, filters: [] }, embed);
      assert.equal(unfiltered.hits.length, 2);
      const pdfOnly = await store.search({ text: 'volcanoes', k: 2, hybrid: false, filters: [{ field: 'content_type', op: 'any', values: ['application/pdf'] }] }, embed);
      assert.deepEqual(pdfOnly.hits.map((hit) => hit.file_path), ['/docs/a.pdf'], 'the one matching chunk, though three others are nearer');
      const textFromSplit1 = await store.search({ text: 'volcanoes', k: 5, hybrid: true, filters: [{ field: 'content_type', op: 'any', values: ['text/plain'] }, { field: 'split_id', op: 'gte', value: 1 }] }, embed);
      assert.deepEqual(textFromSplit1.hits.map((hit) => `${hit.file_path}#${hit.split_id}`).sort(), ['/docs/b.txt#1', '/docs/b.txt#2']);
      assert.equal(targets.length, 3);
      for (const target of targets) assert.deepEqual(target.model, model, 'the model recorded when the store was made');
    });

    test('metadata and access: meta filters, a reader applied before ranking, meta on hits; no reader refused once chunks carry access fields', async () => {
      const budget = docs('/docs/budget.txt', 'text/plain', [axis(1)]).map((doc) => ({ ...doc, meta: { department: 'finance' }, acl_principals: ['group:finance'], acl_public: false }));
      await store.write(await store.claim('/docs/budget.txt'), [budget]);
      await store.flush();
      const embed = () => Promise.resolve(Float32Array.from(axis(1)));
      const finance = [{ field: 'meta.department', op: 'any', values: ['finance'] }] as const;
      const forFinance = await store.search({ text: 'volcanoes', k: 3, hybrid: true, filters: finance, reader: { principals: ['group:finance'] } }, embed);
      assert.deepEqual(forFinance.hits.map((hit) => [hit.file_path, hit.meta]), [['/docs/budget.txt', { department: 'finance' }]]);
      const forOthers = await store.search({ text: 'volcanoes', k: 3, hybrid: false, filters: [], reader: { principals: ['group:ops'] } }, embed);
      assert.equal(forOthers.hits.some((hit) => hit.file_path === '/docs/budget.txt'), false, 'fail-closed: not readable by another principal');
      const all = await store.search({ text: 'volcanoes', k: 1, hybrid: false, filters: [], reader: 'everyone' }, embed);
      assert.equal(all.hits[0]?.file_path, '/docs/budget.txt');
      await assert.rejects(store.search({ text: 'volcanoes', k: 3, hybrid: false, filters: [] }, embed), (error: Error) => error instanceof StoreRefusal && error.usage && /access-controlled/.test(error.message));
    });

    test('opened for reading, it finds what was written', async () => {
      const reader = await provider.openForReading();
      try {
        const result = await reader.search({ text: 'volcanoes', k: 1, hybrid: false, filters: [{ field: 'content_type', op: 'any', values: ['application/pdf'] }], reader: 'everyone' }, () => Promise.resolve(Float32Array.from(axis(0))));
        assert.equal(result.hits[0]?.file_path, '/docs/a.pdf');
      } finally {
        await reader.close();
        await store.close();
        await provider.close();
      }
    });
  });
}
