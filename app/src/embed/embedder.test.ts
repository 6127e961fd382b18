import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineSimilarity } from './embedder.js';

test('cosineSimilarity is 1 for parallel vectors, 0 for orthogonal, -1 for opposite', () => {
  const a = Float32Array.from([1, 2, 3]);
  assert.ok(Math.abs(cosineSimilarity(a, Float32Array.from([2, 4, 6])) - 1) < 1e-6);
  assert.ok(Math.abs(cosineSimilarity(Float32Array.from([1, 0]), Float32Array.from([0, 5]))) < 1e-6);
  assert.ok(Math.abs(cosineSimilarity(a, Float32Array.from([-1, -2, -3])) + 1) < 1e-6);
});

test('cosineSimilarity rejects vectors of different lengths', () => {
  assert.throws(() => cosineSimilarity(new Float32Array(3), new Float32Array(4)), /length mismatch/);
});
