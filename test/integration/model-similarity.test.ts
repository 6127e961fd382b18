// The real all-MiniLM-L6-v2 weights, loaded from the local folder scripts/fetch-model provides,
// must reproduce the similarities sentence-transformers publishes for this model.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cosineSimilarity, createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { CHARS_PER_TOKEN, splitText } from '../../app/src/split/splitter.js';
import { e5Model } from '../support/models.js';

const modelPath = process.env.EMBEDDING_MODEL ?? '';
const logger = silentLogger();
const SENTENCES = ['The weather is lovely today.', "It's so sunny outside!", 'He drove to the stadium.'];

async function similarities(embedder: Embedder): Promise<{ close: number; far: number }> {
  const [weather, sunny, stadium] = await embedder.embed(SENTENCES, 'passage');
  assert.ok(weather && sunny && stadium);
  return { close: cosineSimilarity(weather, sunny), far: cosineSimilarity(weather, stadium) };
}

describe('all-MiniLM-L6-v2, fp32', () => {
  let embedder: Embedder;
  before(async () => {
    assert.ok(path.isAbsolute(modelPath), 'EMBEDDING_MODEL must be the absolute path printed by scripts/fetch-model');
    embedder = await createEmbedder({ model: modelPath, device: 'cpu', dtype: 'fp32', logger });
  });
  after(async () => {
    await embedder.dispose();
  });

  test('produces 384 unit-length dimensions', async () => {
    assert.equal(embedder.dimensions, 384);
    const [vector] = await embedder.embed(['A single sentence.'], 'passage');
    assert.ok(vector);
    const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  });

  test('chunks the split stage counted embed from its token ids, to the very same vectors', async () => {
    // Lengths that differ, so the batch is padded: padding is where ids and tokenizer could part.
    const texts = [
      'Short one.',
      'A somewhat longer sentence about glaciers carving valleys as they creep downhill.',
      'Ünïcödé, punctuation — and numbers: 3.14159; émoji 🙂 too.',
      SENTENCES.join(' ').repeat(6),
    ];
    const fresh = await createEmbedder({ model: modelPath, device: 'cpu', dtype: 'fp32', reuseTokenIds: false, logger });
    try {
      const expected = await fresh.embed(texts, 'passage');
      const counts = embedder.tokenIdReuse;
      assert.ok(counts, 'the embedder reports token id reuse');
      const before = { ...counts };
      for (const text of texts) embedder.countTokens(text);
      const reused = await embedder.embed(texts, 'passage');
      assert.equal(counts.reused - before.reused, texts.length, 'the embed call did not use the counted ids');
      reused.forEach((vector, i) => {
        assert.deepEqual(vector, expected[i], `text ${i} differs`);
      });
      // Counted once, used once: a second embed of the same texts tokenizes them.
      await embedder.embed(texts, 'passage');
      assert.equal(counts.tokenized - before.tokenized, texts.length);
    } finally {
      await fresh.dispose();
    }
  });

  test('known sentence similarities match the reference model', async () => {
    const { close, far } = await similarities(embedder);
    // Reference (sentence-transformers, fp32): 0.6660 and 0.1046. The same fp32 weights on
    // onnxruntime reproduce them to about 1e-4; the margin covers kernel differences only.
    assert.ok(Math.abs(close - 0.666) < 0.005, `cosine(weather, sunny) = ${close}`);
    assert.ok(Math.abs(far - 0.1046) < 0.005, `cosine(weather, stadium) = ${far}`);
  });

  test('embedding a batch gives the same vectors as embedding one at a time', async () => {
    const texts = ['short', 'a somewhat longer sentence that pads the batch'];
    const batch = await embedder.embed(texts, 'passage');
    for (const [i, text] of texts.entries()) {
      const [single] = await embedder.embed([text], 'passage');
      assert.ok(single && batch[i]);
      assert.ok(cosineSimilarity(single, batch[i]) > 0.9999, `padding changed "${text}"`);
    }
  });

  test('a base64 blob, one [UNK] to the real tokenizer, is still cut into chunks of bounded size', () => {
    const blob = Buffer.from('x'.repeat(300_000)).toString('base64');
    assert.ok(embedder.countTokens(blob) <= 3, 'WordPiece sees one word of over 100 characters as one [UNK]');
    const text = `Attachment follows. ${blob} End of attachment.`;
    const chunks = splitText({ text }, { by: 'word', length: 150, overlap: 20, maxTokens: 256, countTokens: (t) => embedder.countTokens(t) });
    assert.ok(chunks.length >= blob.length / (256 * CHARS_PER_TOKEN));
    for (const chunk of chunks) {
      assert.ok(chunk.content.length <= 256 * CHARS_PER_TOKEN, `${chunk.content.length} characters`);
      assert.ok(chunk.tokens <= 256);
    }
  });

  test('countTokens counts with the model tokenizer, special tokens included', () => {
    assert.equal(embedder.countTokens('Hello world, tokenization!'), 8);
    assert.equal(embedder.countTokens('word '.repeat(1000)), 1002);
    assert.equal(embedder.modelMaxTokens, 512);
  });
});

test('a hub id loads offline from the cache folder (EMBEDDING_CACHE_DIR), as in an image with a baked model', async () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'ki-model-cache-'));
  cpSync(modelPath, path.join(cacheDir, 'Xenova', 'all-MiniLM-L6-v2'), { recursive: true });
  const embedder = await createEmbedder({ model: 'Xenova/all-MiniLM-L6-v2', device: 'cpu', dtype: 'fp32', cacheDir, logger });
  try {
    assert.equal(embedder.dimensions, 384);
    const { close } = await similarities(embedder);
    assert.ok(Math.abs(close - 0.666) < 0.005);
  } finally {
    await embedder.dispose();
  }
});

test('q8 weights stay close to the reference (quantisation drift)', async () => {
  const embedder = await createEmbedder({ model: modelPath, device: 'cpu', dtype: 'q8', logger });
  try {
    const { close, far } = await similarities(embedder);
    // Measured 0.6617 and 0.1301: int8 weights move scores by a few hundredths.
    assert.ok(Math.abs(close - 0.666) < 0.03, `q8 cosine(weather, sunny) = ${close}`);
    assert.ok(Math.abs(far - 0.1046) < 0.05, `q8 cosine(weather, stadium) = ${far}`);
  } finally {
    await embedder.dispose();
  }
});

test('prefixes are applied per kind (e5/bge style)', async () => {
  const embedder = await createEmbedder({
    model: modelPath,
    device: 'cpu',
    dtype: 'fp32',
    passagePrefix: 'passage: ',
    queryPrefix: 'query: ',
    logger,
  });
  try {
    const [asPassage] = await embedder.embed(['tide pools'], 'passage');
    const [asQuery] = await embedder.embed(['tide pools'], 'query');
    assert.ok(asPassage && asQuery);
    assert.ok(cosineSimilarity(asPassage, asQuery) < 0.999, 'the two prefixes must change the input');
    assert.equal(embedder.countTokens('tide pools'), 2 + 2 + 2, 'prefix tokens count toward the limit');
  } finally {
    await embedder.dispose();
  }
});

describe('e5-small-v2 (q8, from its Maven Central jar)', () => {
  let embedder: Embedder;
  before(async () => {
    // dtype fp32 as configured by default: the folder holds only q8, and its keda-indexer.json says so.
    embedder = await createEmbedder({ model: e5Model(), device: 'cpu', dtype: 'fp32', logger });
  });
  after(async () => {
    await embedder.dispose();
  });

  test('loads the q8 weights with the passage and query prefixes of its profile, 384 unit-length dims', async () => {
    assert.equal(embedder.dtype, 'q8');
    assert.equal(embedder.passagePrefix, 'passage: ');
    assert.equal(embedder.queryPrefix, 'query: ');
    assert.equal(embedder.dimensions, 384);
    assert.equal(embedder.modelMaxTokens, 512);
    const [vector] = await embedder.embed(['A single sentence.'], 'passage');
    assert.ok(vector);
    const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  });

  test('the prefix is part of what the model sees, and of the token count', async () => {
    // [CLS] passage : hello world [SEP]
    assert.equal(embedder.countTokens('hello world'), 6);
    const [asPassage] = await embedder.embed(['hello world'], 'passage');
    const [asQuery] = await embedder.embed(['hello world'], 'query');
    assert.ok(asPassage && asQuery);
    assert.ok(cosineSimilarity(asPassage, asQuery) < 0.999, 'query and passage prefixes give different vectors');
  });

  test("the model card's query is closer to its answer than to an unrelated passage", async () => {
    const [query] = await embedder.embed(['how much protein should a female eat'], 'query');
    const [answer, unrelated] = await embedder.embed(
      [
        "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day.",
        'Definition of summit for English Language Learners: the highest point of a mountain.',
      ],
      'passage',
    );
    assert.ok(query && answer && unrelated);
    const good = cosineSimilarity(query, answer);
    const bad = cosineSimilarity(query, unrelated);
    // Measured here: 0.925 and 0.744 (e5 cosines sit high; the gap is what ranks).
    assert.ok(good > 0.88 && good - bad > 0.1, `answer ${good}, unrelated ${bad}`);
  });
});
