// Token ids put together word by word (app/src/embed/word-tokens.ts) must be exactly the model's
// tokenizer's: checked with the real tokenizers of the suite's two models on every text the split
// stage would ask to count in the benchmark corpus's sources, and on random text drawn from the
// characters where a composition would go wrong.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { wordTokenEncoder, type WordTokenEncoder } from '../../app/src/embed/word-tokens.js';
import { splitText } from '../../app/src/split/splitter.js';
import { e5Model, minilmModel } from '../support/models.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function loadTokenizer(modelDir: string): Promise<PreTrainedTokenizer> {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(modelDir) + path.sep;
  return AutoTokenizer.from_pretrained(path.basename(modelDir));
}

/** Every text the split stage asks to count, over the raw sources of the benchmark corpus. */
function countedTexts(): string[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'bench/corpus/manifest.json'), 'utf8')) as { sources: { path: string }[] };
  const texts: string[] = [];
  for (const source of manifest.sources) {
    const file = path.isAbsolute(source.path) ? source.path : path.join(root, source.path);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // a licence text this machine lacks: the others are plenty
    }
    splitText({ text }, { by: 'word', length: 150, overlap: 20, maxTokens: 256, countTokens: (t) => (texts.push(t), t.length / 4) });
  }
  return texts;
}

// Characters where normalizing, pre-tokenizing or WordPiece could join or split differently word
// by word: controls, every kind of space and separator, format characters, combining marks,
// CJK and other scripts, case pairs with context rules, punctuation, digits, emoji, lone surrogates.
const TRICKY = [
  ...Array.from('\u0000\u0001\u0007\u0008\u000b\u000c\u001f\u007f\u0085\u009f'),
  ...Array.from('\u00a0\u1680\u2000\u2007\u200a\u202f\u205f\u3000\u2028\u2029'),
  ...Array.from('\u00ad\u200b\u200c\u200d\u200e\u2060\u2066\ufeff'),
  ...Array.from('\u0301\u0308\u0327\u20dd\u0951'),
  ...Array.from('漢字か한국어ไทยعربيעבריתДжΣσςİıßﬁ①²'),
  ...Array.from('.,;:!?¿¡\'"`«»“”‘’()[]{}<>-–—_/\\|@#$%^&*+=~'),
  ...Array.from('0123456789'),
  '🙂', '👍🏽', '👨‍👩‍👧', '\ud800', '\udfff',
  '[CLS]', '[SEP]', '[MASK]', '[UNK]', '[PAD]', '##', 'passage: ', 'query: ',
];
const GAPS = [' ', '  ', '\t', '\n', '\r\n', '\n\n', ' \t '];

/** Deterministic text from TRICKY, ASCII letters and gaps (mulberry32, so a failure reproduces). */
function randomTexts(count: number, seed: number): string[] {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    let text = next() < 0.3 ? pick(GAPS) : '';
    const words = 1 + Math.floor(next() * 30);
    for (let w = 0; w < words; w++) {
      const length = 1 + Math.floor(next() * 12);
      for (let c = 0; c < length; c++) text += next() < 0.5 ? pick(TRICKY) : String.fromCharCode(65 + Math.floor(next() * 58));
      text += pick(GAPS);
    }
    texts.push(next() < 0.5 ? text.trimEnd() : text);
  }
  return texts;
}

function assertSame(tokenizer: PreTrainedTokenizer, encoder: WordTokenEncoder, texts: readonly string[]): void {
  for (const text of texts) {
    const expected = tokenizer.encode(text);
    const composed = encoder(text);
    if (composed.length !== expected.length || composed.some((id, i) => id !== expected[i])) {
      assert.deepEqual(composed, expected, `word by word differs on ${JSON.stringify(text.slice(0, 200))}`);
    }
  }
}

for (const [name, modelDir] of [
  ['all-MiniLM-L6-v2', minilmModel],
  ['e5-small-v2', e5Model],
] as const) {
  describe(`${name}'s tokenizer, word by word`, () => {
    test('is accepted: WordPiece behind BERT normalizing and pre-tokenizing', async () => {
      const built = wordTokenEncoder(await loadTokenizer(modelDir()));
      assert.ok('encoder' in built, 'obstacle' in built ? built.obstacle : '');
    });

    test('gives the tokenizer’s ids for every text the split stage counts in the corpus’s sources', async () => {
      const tokenizer = await loadTokenizer(modelDir());
      const built = wordTokenEncoder(tokenizer);
      assert.ok('encoder' in built);
      const texts = countedTexts();
      assert.ok(texts.length > 1000, `only ${texts.length} texts`);
      assertSame(tokenizer, built.encoder, texts);
    });

    test('gives the tokenizer’s ids for random text of controls, spaces, marks, scripts and special tokens', async () => {
      const tokenizer = await loadTokenizer(modelDir());
      const built = wordTokenEncoder(tokenizer);
      assert.ok('encoder' in built);
      assertSame(tokenizer, built.encoder, randomTexts(3000, 20261201));
    });
  });
}
