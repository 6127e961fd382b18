import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanPoolNormalized } from './pooling.js';

const close = (actual: Float32Array | undefined, expected: number[]) => {
  assert.ok(actual);
  assert.equal(actual.length, expected.length);
  expected.forEach((value, i) => {
    assert.ok(Math.abs((actual[i] ?? Number.NaN) - value) < 1e-6, `[${i}] ${actual[i]} vs ${value}`);
  });
};

test('averages only the tokens the mask keeps, then scales to unit length', () => {
  // Two texts, three positions, two dimensions; the second text is padded after one token.
  const data = Float32Array.from([1, 2, 3, 4, 100, 100, 3, 4, 9, 9, 9, 9]);
  const mask = BigInt64Array.from([1n, 1n, 0n, 1n, 0n, 0n]);
  const [first, second] = meanPoolNormalized({ data, dims: [2, 3, 2] }, mask);
  // mean (2, 3) / √13; mean (3, 4) / 5
  close(first, [2 / Math.sqrt(13), 3 / Math.sqrt(13)]);
  close(second, [0.6, 0.8]);
});

test('matches a straightforward reference on random data', () => {
  const [rows, tokens, width] = [4, 7, 5];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const data = Float32Array.from({ length: rows * tokens * width }, random);
  const mask = BigInt64Array.from({ length: rows * tokens }, (_, i) => (i % tokens < 2 + (i / tokens >> 0) ? 1n : 0n));
  const pooled = meanPoolNormalized({ data, dims: [rows, tokens, width] }, mask);
  for (let r = 0; r < rows; r++) {
    const kept = Array.from({ length: tokens }, (_, t) => t).filter((t) => mask[r * tokens + t] === 1n);
    const mean = Array.from({ length: width }, (_, k) => kept.reduce((s, t) => s + (data[(r * tokens + t) * width + k] ?? 0), 0) / kept.length);
    const norm = Math.hypot(...mean);
    close(pooled[r], mean.map((v) => v / norm));
  }
});

test('a row with nothing unmasked comes out as zeros, not NaN', () => {
  const [vector] = meanPoolNormalized({ data: Float32Array.from([5, 5]), dims: [1, 1, 2] }, BigInt64Array.from([0n]));
  close(vector, [0, 0]);
});

test('rejects output whose size does not match its dims or mask', () => {
  assert.throws(() => meanPoolNormalized({ data: new Float32Array(5), dims: [1, 2, 2] }, new BigInt64Array(2)), /token vectors/);
  assert.throws(() => meanPoolNormalized({ data: new Float32Array(4), dims: [1, 2, 2] }, new BigInt64Array(3)), /attention mask/);
});
