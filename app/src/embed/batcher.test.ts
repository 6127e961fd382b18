import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EmbedBatcher, planBatches } from './batcher.js';

// Token counts are given by the split stage; here a text's length stands in for them.
const passages = (...texts: string[]) => texts.map((text) => ({ text, tokens: text.length }));

describe('planBatches', () => {
  test('sorts longest first and keeps padded size within the budget', () => {
    const items = [5, 100, 7, 60, 6, 99, 8].map((tokens, id) => ({ id, tokens }));
    const batches = planBatches(items, 200);
    for (const batch of batches) {
      const longest = Math.max(...batch.map((b) => b.tokens));
      assert.ok(longest * batch.length <= 200 || batch.length === 1);
    }
    assert.deepEqual(batches.flat().map((b) => b.tokens), [100, 99, 60, 8, 7, 6, 5]);
    assert.deepEqual(batches.map((b) => b.length), [2, 3, 2]);
  });

  test('an item longer than the budget still gets a batch of its own', () => {
    assert.deepEqual(planBatches([{ tokens: 500 }, { tokens: 2 }], 100).map((b) => b.length), [1, 1]);
  });
});

// A fake model: the vector of a text is [its length]; pure batching logic needs no real model.
function fakeModel(calls: string[][]) {
  return {
    embed: (texts: readonly string[]) => {
      calls.push([...texts]);
      return Promise.resolve(texts.map((t) => Float32Array.of(t.length)));
    },
  };
}

describe('EmbedBatcher', () => {
  test('chunks of several files share model calls and each file gets its vectors in order', async () => {
    const calls: string[][] = [];
    const batcher = new EmbedBatcher(fakeModel(calls), { batchTokens: 1000, lingerMs: 5 });
    const [a, b] = await Promise.all([batcher.embedPassages(passages('aaa', 'a')), batcher.embedPassages(passages('bb', 'bbbbb'))]);
    assert.deepEqual(a.map((v) => v[0]), [3, 1]);
    assert.deepEqual(b.map((v) => v[0]), [2, 5]);
    assert.equal(calls.length, 1, 'both files went into one call');
    assert.deepEqual(calls[0], ['bbbbb', 'aaa', 'bb', 'a']);
  });

  test('a model failure rejects the files in that batch only', async () => {
    let call = 0;
    const batcher = new EmbedBatcher(
      {
        embed: (texts) => (++call === 1 ? Promise.reject(new Error('boom')) : Promise.resolve(texts.map(() => Float32Array.of(1)))),
      },
      { batchTokens: 1000, lingerMs: 1 },
    );
    await assert.rejects(batcher.embedPassages(passages('x')), /boom/);
    assert.equal((await batcher.embedPassages(passages('y'))).length, 1);
  });

  test('an empty file resolves at once with no vectors', async () => {
    const calls: string[][] = [];
    const batcher = new EmbedBatcher(fakeModel(calls), { batchTokens: 100, lingerMs: 1 });
    assert.deepEqual(await batcher.embedPassages([]), []);
  });

  test('reports every call with its padding', async () => {
    const stats: { texts: number; tokens: number; paddedTokens: number }[] = [];
    const batcher = new EmbedBatcher(fakeModel([]), { batchTokens: 10, lingerMs: 1, onBatch: (s) => stats.push(s) });
    await batcher.embedPassages(passages('12345', '1', '12'));
    assert.deepEqual(stats.map(({ texts, tokens, paddedTokens }) => ({ texts, tokens, paddedTokens })), [
      { texts: 2, tokens: 7, paddedTokens: 10 },
      { texts: 1, tokens: 1, paddedTokens: 1 },
    ]);
  });
});
