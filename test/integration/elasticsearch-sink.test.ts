// The sink against the real Elasticsearch of the dev stack (ELASTICSEARCH_URL).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../app/src/config/config.js';
import { PermanentError, TransientError } from '../../app/src/failure.js';
import { chunkIdOf, sourceIdOf, type ChunkDocument } from '../../app/src/store/document.js';
import { createElasticsearchClient, ElasticsearchSink, SinkStartupError } from '../../app/src/store/elasticsearch/chunks.js';
import { FileRecords, type RecordClaim as WriteClaim } from '../../app/src/store/elasticsearch/file-records.js';

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
    size: 10_000,
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

  // Large files go through in slices (docs/operations.md, "Large files"): all or nothing still.
  describe('a file written in slices', () => {
    /** `count` chunks named `${tag} n`, cut into slices of `size`, made only when asked for. */
    async function* slicesOf(path: string, tag: string, count: number, size: number, pulled: { slices: number } = { slices: 0 }) {
      const all = docs(path, Array.from({ length: count }, (_, i) => `${tag} ${i}`));
      for (let first = 0; first < count; first += size) {
        pulled.slices++;
        yield await Promise.resolve(all.slice(first, first + size));
      }
    }

    /** The same, but the slice starting at `failAt` fails the way `failure` says. */
    async function* failingAt(path: string, tag: string, count: number, size: number, failAt: number, failure: 'embed' | 'rejected') {
      for await (const slice of slicesOf(path, tag, count, size)) {
        if (slice[0]?.split_id !== failAt) {
          yield slice;
          continue;
        }
        if (failure === 'embed') throw new Error('the model failed on this slice');
        // A vector of the wrong size: Elasticsearch itself rejects the chunk in the bulk request.
        yield slice.map((doc, i) => (i === 3 ? { ...doc, embedding: [1, 2, 3] } : doc));
      }
    }

    const claimOf = (path: string): Promise<WriteClaim> => sink.claim(path);

    test('every slice lands: all chunks, each once, in order; a shorter rewrite leaves only its own', async () => {
      const path = 's3://docs/large.pdf';
      const first = await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'v1', 700, 64));
      assert.deepEqual(first, { written: 700, staleDeleted: 0, superseded: false });
      const v1 = await chunksOf(path);
      assert.equal(v1.length, 700);
      assert.deepEqual(v1, Array.from({ length: 700 }, (_, i) => `v1 ${i}`));
      const second = await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'v2', 450, 64));
      assert.deepEqual(second, { written: 450, staleDeleted: 250, superseded: false });
      assert.deepEqual(await chunksOf(path), Array.from({ length: 450 }, (_, i) => `v2 ${i}`));
      assert.equal((await records.read(path))?.chunks, 450);
    });

    for (const failure of ['embed', 'rejected'] as const) {
      test(`a ${failure === 'embed' ? 'slice that cannot be made' : 'slice Elasticsearch rejects'} halfway leaves neither old nor new chunks, and the error says why`, async () => {
        const path = `s3://docs/halfway-${failure}.pdf`;
        await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'old', 300, 64));
        assert.equal((await chunksOf(path)).length, 300);
        await assert.rejects(sink.writeFileSlices(await claimOf(path), failingAt(path, 'new', 400, 64, 192, failure)), (error: unknown) => {
          if (failure === 'embed') assert.match(String(error), /model failed/);
          else assert.ok(error instanceof PermanentError && error.reason === 'index_rejected', String(error));
          return true;
        });
        assert.deepEqual(await chunksOf(path), [], 'no mix of old and new chunks');
        assert.equal((await records.read(path))?.state, 'claimed', 'the claim was not completed');
        // The retry (a new claim) writes the file whole.
        await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'new', 400, 64));
        assert.deepEqual(await chunksOf(path), Array.from({ length: 400 }, (_, i) => `new ${i}`));
      });
    }

    test('a failure before any slice was sent leaves the old chunks as they were', async () => {
      const path = 's3://docs/fails-first.pdf';
      await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'old', 100, 64));
      await assert.rejects(sink.writeFileSlices(await claimOf(path), failingAt(path, 'new', 200, 64, 0, 'embed')), /model failed/);
      assert.deepEqual(await chunksOf(path), Array.from({ length: 100 }, (_, i) => `old ${i}`));
    });

    test('when the cleanup after a failure fails too, the error is transient so the message comes back', async () => {
      const path = 's3://docs/cleanup-fails.pdf';
      await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'old', 200, 64));
      // A sink whose cluster stops answering right after a slice fails: its cleanup cannot run.
      const cut = createElasticsearchClient(settings);
      const cutSink = new ElasticsearchSink(cut, { ...settings, index });
      async function* failsThenCuts() {
        for await (const slice of slicesOf(path, 'new', 300, 64)) {
          if (slice[0]?.split_id === 128) {
            await cut.close();
            throw new PermanentError('no_text', 'the model failed on this slice');
          }
          yield slice;
        }
      }
      await assert.rejects(cutSink.writeFileSlices(await cutSink.claim(path), failsThenCuts()), (error: unknown) => {
        assert.ok(error instanceof TransientError, `a ${String(error)}`);
        assert.match(error.message, /model failed.*removing the partly written file failed/);
        return true;
      });
      // The retry's claim overwrites the mix the failed cleanup left.
      await sink.writeFileSlices(await claimOf(path), slicesOf(path, 'retry', 150, 64));
      assert.deepEqual(await chunksOf(path), Array.from({ length: 150 }, (_, i) => `retry ${i}`));
    });

    test('a writer superseded on its first slice stops asking for more slices and leaves the later chunks', async () => {
      const path = 's3://docs/superseded-stream.pdf';
      const early = await claimOf(path);
      const late = await claimOf(path);
      await sink.writeFileSlices(late, slicesOf(path, 'late', 100, 64));
      const pulled = { slices: 0 };
      const result = await sink.writeFileSlices(early, slicesOf(path, 'early', 640, 64, pulled));
      assert.deepEqual(result, { written: 0, staleDeleted: 0, superseded: true });
      assert.equal(pulled.slices, 1, 'nothing was embedded past the slice that met the later claim');
      assert.deepEqual(await chunksOf(path), Array.from({ length: 100 }, (_, i) => `late ${i}`));
    });
  });

  test('ping is true for the running cluster', async () => {
    assert.equal(await sink.ping(), true);
  });
});
