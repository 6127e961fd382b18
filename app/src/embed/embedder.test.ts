import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineSimilarity, TokenIdCache } from './embedder.js';

test('cosineSimilarity is 1 for parallel vectors, 0 for orthogonal, -1 for opposite', () => {
  const a = Float32Array.from([1, 2, 3]);
  assert.ok(Math.abs(cosineSimilarity(a, Float32Array.from([2, 4, 6])) - 1) < 1e-6);
  assert.ok(Math.abs(cosineSimilarity(Float32Array.from([1, 0]), Float32Array.from([0, 5]))) < 1e-6);
  assert.ok(Math.abs(cosineSimilarity(a, Float32Array.from([-1, -2, -3])) + 1) < 1e-6);
});

test('cosineSimilarity rejects vectors of different lengths', () => {
  assert.throws(() => cosineSimilarity(new Float32Array(3), new Float32Array(4)), /length mismatch/);
});

test('TokenIdCache hands each text its ids once and drops the oldest past its capacity', () => {
  const cache = new TokenIdCache(2);
  cache.put('a', [101, 1, 102]);
  cache.put('b', [101, 2, 102]);
  cache.put('c', [101, 3, 102]);
  assert.equal(cache.size, 2);
  assert.equal(cache.take('a'), undefined);
  assert.deepEqual(cache.take('b'), [101, 2, 102]);
  assert.equal(cache.take('b'), undefined);
  // Counting a text again refreshes it: it is then the newest, not the first to go.
  cache.put('c', [101, 3, 102]);
  cache.put('d', [101, 4, 102]);
  cache.put('c', [101, 3, 102]);
  cache.put('e', [101, 5, 102]);
  assert.deepEqual(cache.take('c'), [101, 3, 102]);
  assert.equal(cache.take('d'), undefined);
});
