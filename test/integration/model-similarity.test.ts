// The real all-MiniLM-L6-v2 weights, loaded from the local folder scripts/fetch-model provides,
// must reproduce the similarities sentence-transformers publishes for this model.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { cosineSimilarity, createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';

const modelPath = process.env.EMBEDDING_MODEL;
let embedder: Embedder;

before(async () => {
  assert.ok(
    modelPath !== undefined && path.isAbsolute(modelPath),
    'EMBEDDING_MODEL must be the absolute path printed by scripts/fetch-model',
  );
  embedder = await createEmbedder({ model: modelPath, device: 'cpu', dtype: 'fp32' });
});

after(async () => {
  await embedder.dispose();
});

test('all-MiniLM-L6-v2 produces 384 unit-length dimensions', async () => {
  assert.equal(embedder.dimensions, 384);
  const [vector] = await embedder.embed(['A single sentence.']);
  assert.ok(vector);
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
});

test('known sentence similarities match the reference model', async () => {
  const [weather, sunny, stadium] = await embedder.embed([
    'The weather is lovely today.',
    "It's so sunny outside!",
    'He drove to the stadium.',
  ]);
  assert.ok(weather && sunny && stadium);
  const close = cosineSimilarity(weather, sunny);
  const far = cosineSimilarity(weather, stadium);
  // Reference (sentence-transformers, fp32): 0.6660 and 0.1046. fp32 ONNX reproduces them to
  // about 1e-4; the tolerance leaves room for kernel differences, not for another model.
  assert.ok(Math.abs(close - 0.666) < 0.01, `cosine(weather, sunny) = ${close}`);
  assert.ok(Math.abs(far - 0.1046) < 0.01, `cosine(weather, stadium) = ${far}`);
});

test('embedding a batch gives the same vectors as embedding one at a time', async () => {
  const texts = ['short', 'a somewhat longer sentence that pads the batch'];
  const batch = await embedder.embed(texts);
  for (const [i, text] of texts.entries()) {
    const [single] = await embedder.embed([text]);
    assert.ok(single && batch[i]);
    assert.ok(cosineSimilarity(single, batch[i]) > 0.9999, `padding changed "${text}"`);
  }
});
