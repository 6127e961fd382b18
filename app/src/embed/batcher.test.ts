import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CALL_OVERHEAD_TOKENS, callOverheadTokens, EmbedBatcher, planBatches } from './batcher.js';

// Token counts are given by the split stage; here a text's length stands in for them.
const passages = (...texts: string[]) => texts.map((text) => ({ text, tokens: text.length }));

describe('planBatches', () => {
  const cost = (batches: readonly (readonly { tokens: number }[])[]) =>
    batches.reduce((sum, batch) => sum + Math.max(...batch.map((b) => b.tokens)) * batch.length + CALL_OVERHEAD_TOKENS, 0);

  test('sorts longest first and keeps padded size within the budget', () => {
    const items = [5, 100, 7, 60, 6, 99, 8].map((tokens, id) => ({ id, tokens }));
    const batches = planBatches(items, 200);
    for (const batch of batches) {
      const longest = Math.max(...batch.map((b) => b.tokens));
      assert.ok(longest * batch.length <= 200 || batch.length === 1);
    }
    assert.deepEqual(batches.flat().map((b) => b.tokens), [100, 99, 60, 8, 7, 6, 5]);
  });

  test('a short text is not padded to a long one when a call of its own costs less', () => {
    // Together: 2 × 250 padded tokens + one call; apart: 250 + 100 + two calls.
    assert.deepEqual(planBatches([{ tokens: 250 }, { tokens: 100 }], 1024).map((b) => b.length), [1, 1]);
    // Texts of about the same length share a call.
    assert.deepEqual(planBatches([{ tokens: 100 }, { tokens: 99 }, { tokens: 98 }], 1024).map((b) => b.length), [3]);
  });

  test('finds the cheapest of all ways to cut the items into batches', () => {
    // Every partition of a small set (not only runs of neighbours), against the plan.
    const partitions = <T>(items: readonly T[]): T[][][] => {
      if (items.length === 0) return [[]];
      const [first, ...rest] = items as [T, ...T[]];
      return partitions(rest).flatMap((partition) => [
        [[first], ...partition],
        ...partition.map((_, i) => partition.map((batch, j) => (i === j ? [first, ...batch] : batch))),
      ]);
    };
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let round = 0; round < 40; round++) {
      const items = Array.from({ length: 2 + Math.floor(random() * 6) }, () => ({ tokens: 1 + Math.floor(random() * 256) }));
      const fits = (batch: readonly { tokens: number }[]) => batch.length === 1 || Math.max(...batch.map((b) => b.tokens)) * batch.length <= 512;
      const best = Math.min(...partitions(items).filter((p) => p.every(fits)).map(cost));
      const plan = planBatches(items, 512);
      assert.ok(plan.every(fits));
      assert.equal(cost(plan), best, `items ${items.map((i) => i.tokens).join(',')}`);
    }
  });

  test('on a GPU a call costs a whole budget: the plan fills batches as far as the budget allows', () => {
    const items = [{ tokens: 250 }, { tokens: 100 }, { tokens: 90 }];
    assert.deepEqual(planBatches(items, 1024, callOverheadTokens('cuda', 1024)).map((b) => b.length), [3]);
    assert.deepEqual(planBatches(items, 1024, callOverheadTokens('cpu', 1024)).map((b) => b.length), [1, 2]);
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
      { texts: 1, tokens: 5, paddedTokens: 5 },
      { texts: 2, tokens: 3, paddedTokens: 4 },
    ]);
  });

  test('texts that arrive while the model runs join the next plan; the oldest text goes first', async () => {
    const calls: string[][] = [];
    const pending: (() => void)[] = [];
    const finishCall = () => {
      const finish = pending.shift();
      assert.ok(finish, 'a model call is running');
      finish();
    };
    const model = {
      embed: (texts: readonly string[]) => {
        calls.push([...texts]);
        return new Promise<Float32Array[]>((resolve) => {
          pending.push(() => {
            resolve(texts.map((t) => Float32Array.of(t.length)));
          });
        });
      },
    };
    const batcher = new EmbedBatcher(model, { batchTokens: 200, lingerMs: 1 });
    const first = batcher.embedPassages(passages('x'.repeat(100), 'y'.repeat(10)));
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    // The 100-token text runs alone (padding the 10-token one to 100 would cost more than a call).
    assert.deepEqual(calls[0], ['x'.repeat(100)]);
    const second = batcher.embedPassages(passages('z'.repeat(10), 'w'.repeat(9)));
    finishCall();
    while (calls.length === 1) await new Promise((resolve) => setTimeout(resolve, 1));
    // The first file's short text waited; the second file's texts arrived meanwhile and share its call.
    assert.deepEqual(calls[1], ['y'.repeat(10), 'z'.repeat(10), 'w'.repeat(9)]);
    finishCall();
    assert.deepEqual((await first).map((v) => v[0]), [100, 10]);
    assert.deepEqual((await second).map((v) => v[0]), [10, 9]);
    assert.equal(calls.length, 2);
  });
});
