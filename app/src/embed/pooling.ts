// Mean pooling over the attention mask, then L2 normalisation: how sentence-transformers turns
// all-MiniLM-L6-v2's token vectors into one sentence vector.
//
// Written here rather than left to transformers.js's pipeline, which builds intermediate tensors
// and walks them column by column: this walks the model output once, in memory order, and was
// measured faster for the whole embed stage (docs/benchmarks.md, levers).

/** Row-major output of the model: `rows` texts × `tokens` positions × `width` dimensions. */
export interface TokenVectors {
  readonly data: Float32Array;
  readonly dims: readonly [rows: number, tokens: number, width: number];
}

/** One unit-length vector per row: the mean of its unmasked token vectors. */
export function meanPoolNormalized({ data, dims: [rows, tokens, width] }: TokenVectors, attentionMask: BigInt64Array): Float32Array[] {
  if (data.length !== rows * tokens * width) throw new Error(`token vectors: ${data.length} values for dims ${rows}×${tokens}×${width}`);
  if (attentionMask.length !== rows * tokens) throw new Error(`attention mask: ${attentionMask.length} values for ${rows}×${tokens}`);
  const vectors: Float32Array[] = [];
  const sum = new Float64Array(width);
  for (let row = 0; row < rows; row++) {
    sum.fill(0);
    let counted = 0;
    for (let token = 0; token < tokens; token++) {
      if (attentionMask[row * tokens + token] === 0n) continue;
      counted++;
      const base = (row * tokens + token) * width;
      for (let k = 0; k < width; k++) sum[k] = (sum[k] ?? 0) + (data[base + k] ?? 0);
    }
    const vector = new Float32Array(width);
    let squares = 0;
    for (let k = 0; k < width; k++) {
      const mean = (sum[k] ?? 0) / Math.max(counted, 1);
      vector[k] = mean;
      squares += mean * mean;
    }
    // An all-zero mean stays zero rather than becoming NaN.
    const norm = Math.sqrt(squares) || 1;
    for (let k = 0; k < width; k++) vector[k] = (vector[k] ?? 0) / norm;
    vectors.push(vector);
  }
  return vectors;
}
