// The sink against the real Elasticsearch of the dev stack (ELASTICSEARCH_URL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../app/src/config/config.js';
import { PermanentError } from '../../app/src/failure.js';
import { chunkIdOf, sourceIdOf, type ChunkDocument } from '../../app/src/sink/document.js';
import { createElasticsearchClient, ElasticsearchSink, SinkStartupError } from '../../app/src/sink/elasticsearch.js';
import { FileRecords } from '../../app/src/sink/file-records.js';

const settings = loadConfig().elasticsearch;
const index = `test-sink-${process.pid}-${Date.now()}`;
const client = createElasticsearchClient(settings);
const sink = new ElasticsearchSink(client, { ...settings, index });
const records = new FileRecords(client, sink.recordsIndex);
const DIMS = 8;

function unit(axis: number, tilt = 0): number[] {
  const v = Array.from({ length: DIMS }, (_, i) => (i === axis ? 1 : i === (axis + 1) % DIMS ? tilt : 0));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function docs(filePath: string, contents: readonly string[]): ChunkDocument[] {
  const sourceId = sourceIdOf(filePath);
  return contents.map((content, splitId) => ({
    id: chunkIdOf(sourceId, splitId),
    content,
    embedding: unit(splitId % DIMS, 0.1),
    file_path: filePath,
    source_id: sourceId,
    split_id: splitId,
    split_idx_start: splitId * 10,
    content_type: 'text/plain',
    indexed_at: new Date().toISOString(),
  }));
}

async function chunksOf(filePath: string): Promise<string[]> {
  await sink.refresh();
  const result = await client.search<ChunkDocument>({
    index,
    query: { term: { source_id: sourceIdOf(filePath) } },
    sort: [{ split_id: 'asc' }],
    size: 100,
  });
  return result.hits.hits.map((hit) => hit._source?.content ?? '');
}

describe('ElasticsearchSink', () => {
  before(async () => {
    assert.notEqual(settings.url, '', 'ELASTICSEARCH_URL must point at the dev stack');
    assert.equal(await sink.ensureIndex(DIMS), 'created');
  });
  after(async () => {
    await client.indices.delete({ index, ignore_unavailable: true });
    await client.indices.delete({ index: sink.recordsIndex, ignore_unavailable: true });
    await client.close();
  });

  test('the index gets an explicit dense_vector mapping with the model dims', async () => {
    const mapping = await client.indices.getMapping({ index });
    const embedding = mapping[index]?.mappings.properties?.embedding as Record<string, unknown>;
    assert.equal(embedding.type, 'dense_vector');
    assert.equal(embedding.dims, DIMS);
    assert.equal(embedding.similarity, 'cosine');
    assert.equal((embedding.index_options as { type: string }).type, 'int8_hnsw');
    assert.equal(await sink.ensureIndex(DIMS), 'exists');
  });

  test('an existing index with other dims is a startup error, not silent corruption', async () => {
    await assert.rejects(sink.ensureIndex(DIMS * 2), (error: unknown) => error instanceof SinkStartupError && /8 dims.*16 dims/.test(error.message));
  });

  test('chunks are written, found by kNN, and re-writing does not duplicate them', async () => {
    const path = 's3://docs/a.txt';
    await sink.writeFile(await sink.claim(path), docs(path, ['alpha', 'beta', 'gamma']));
    await sink.writeFile(await sink.claim(path), docs(path, ['alpha', 'beta', 'gamma']));
    assert.deepEqual(await chunksOf(path), ['alpha', 'beta', 'gamma']);
    const result = await client.search<ChunkDocument>({
      index,
      knn: { field: 'embedding', query_vector: unit(1), k: 1, num_candidates: 10 },
      _source: ['content', 'file_path', 'id'],
    });
    const top = result.hits.hits[0];
    assert.equal(top?._source?.content, 'beta');
    assert.equal(top._source.id, top._id, 'id in _source matches _id (Haystack reads it)');
  });

  test('an edited, shorter file leaves no stale chunks', async () => {
    const path = 's3://docs/edited.txt';
    await sink.writeFile(await sink.claim(path), docs(path, ['one', 'two', 'three', 'four']));
    const result = await sink.writeFile(await sink.claim(path), docs(path, ['uno', 'dos']));
    assert.equal(result.staleDeleted, 2);
    assert.deepEqual(await chunksOf(path), ['uno', 'dos']);
  });

  test('removing a file deletes all its chunks and only its chunks', async () => {
    const gone = 's3://docs/gone.txt';
    const kept = 's3://docs/kept.txt';
    await sink.writeFile(await sink.claim(gone), docs(gone, ['x', 'y']));
    await sink.writeFile(await sink.claim(kept), docs(kept, ['z']));
    await sink.refresh();
    assert.deepEqual(await sink.removeFile(await sink.claim(gone)), { removed: 2, superseded: false });
    assert.deepEqual(await chunksOf(gone), []);
    assert.deepEqual(await chunksOf(kept), ['z']);
  });

  test('a chunk Elasticsearch rejects is a permanent error, checked item by item', async () => {
    const path = 's3://docs/bad.txt';
    const [good] = docs(path, ['fine']);
    assert.ok(good);
    const bad = { ...good, id: chunkIdOf(sourceIdOf(path), 1), split_id: 1, embedding: [1, 2, 3] };
    await assert.rejects(sink.writeFile(await sink.claim(path), [good, bad]), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.equal(error.reason, 'index_rejected');
      return true;
    });
  });

  test("a rejected chunk's error names the field but never quotes the document's text", async () => {
    const path = 's3://docs/private.txt';
    const [good] = docs(path, ['fine']);
    assert.ok(good);
    const bad = { ...good, id: chunkIdOf(sourceIdOf(path), 1), split_id: 1, indexed_at: 'salary of J. Doe is 123456' };
    await assert.rejects(sink.writeFile(await sink.claim(path), [good, bad]), (error: unknown) => {
      assert.ok(error instanceof PermanentError);
      assert.match(error.message, /indexed_at/);
      assert.doesNotMatch(error.message, /salary|123456/);
      return true;
    });
  });

  // The latest version wins (docs/operations.md): claims taken in one order, writes landing in
  // another, as with two workers of which the first is slow.
  describe('claims order the writers of a file', () => {
    test('an earlier claim that writes last is superseded and the later content stays', async () => {
      const path = 's3://docs/race-edit.txt';
      const first = await sink.claim(path);
      const second = await sink.claim(path);
      assert.ok(second.generation > first.generation);
      assert.deepEqual(await sink.writeFile(second, docs(path, ['v2 a', 'v2 b'])), { written: 2, staleDeleted: 0, superseded: false });
      const late = await sink.writeFile(first, docs(path, ['v1 a', 'v1 b', 'v1 c', 'v1 d']));
      assert.equal(late.superseded, true);
      assert.deepEqual(await chunksOf(path), ['v2 a', 'v2 b'], 'the later claim keeps its chunks, the surplus of the earlier one is gone');
      assert.equal((await records.read(path))?.chunks, 2);
    });

    test('an earlier claim that writes first is overwritten by the later one, surplus included', async () => {
      const path = 's3://docs/race-order.txt';
      const first = await sink.claim(path);
      const second = await sink.claim(path);
      assert.equal((await sink.writeFile(first, docs(path, ['v1 a', 'v1 b', 'v1 c']))).superseded, true, 'completion sees the later claim');
      assert.equal((await sink.writeFile(second, docs(path, ['v2 a']))).superseded, false);
      assert.deepEqual(await chunksOf(path), ['v2 a']);
    });

    test('a write of a file removed under a later claim leaves no chunks', async () => {
      const path = 's3://docs/race-remove.txt';
      await sink.writeFile(await sink.claim(path), docs(path, ['old a', 'old b']));
      const slow = await sink.claim(path);
      const removal = await sink.claim(path);
      assert.deepEqual(await sink.removeFile(removal), { removed: 2, superseded: false });
      assert.equal((await sink.writeFile(slow, docs(path, ['slow a', 'slow b', 'slow c']))).superseded, true);
      assert.deepEqual(await chunksOf(path), []);
      assert.equal((await records.read(path))?.state, 'absent');
    });

    test('a removal under an earlier claim cannot delete what a later claim wrote', async () => {
      const path = 's3://docs/race-recreate.txt';
      const removal = await sink.claim(path);
      const recreate = await sink.claim(path);
      await sink.writeFile(recreate, docs(path, ['new a', 'new b']));
      assert.deepEqual(await sink.removeFile(removal), { removed: 0, superseded: true });
      assert.deepEqual(await chunksOf(path), ['new a', 'new b']);
      assert.equal((await records.read(path))?.state, 'indexed');
    });

    test('chunks written before file records existed are overwritten by the first claim', async () => {
      const path = 's3://docs/legacy.txt';
      // As the worker wrote them before claims: internal versions, bumped by each rewrite.
      for (let round = 0; round < 3; round++) {
        for (const doc of docs(path, ['legacy a', 'legacy b', 'legacy c'])) await client.index({ index, id: doc.id, document: doc });
      }
      assert.equal((await records.read(path)), undefined);
      const result = await sink.writeFile(await sink.claim(path), docs(path, ['fresh']));
      assert.deepEqual(result, { written: 1, staleDeleted: 2, superseded: false });
      assert.deepEqual(await chunksOf(path), ['fresh']);
    });
  });

  test('ping is true for the running cluster', async () => {
    assert.equal(await sink.ping(), true);
  });
});
