import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { wordCompositionObstacle, wordTokenEncoder, type WordTokenizer } from './word-tokens.js';

// all-MiniLM-L6-v2's tokenizer.json, less its vocabulary.
const BERT = {
  added_tokens: [{ content: '[PAD]' }, { content: '[UNK]' }, { content: '[CLS]' }, { content: '[SEP]' }, { content: '[MASK]' }],
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100 },
};

test('BERT WordPiece tokenizers, and per-character normalizer sequences, compose word by word', () => {
  assert.equal(wordCompositionObstacle(BERT), undefined);
  const sequences = {
    ...BERT,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation' }, { type: 'Digits' }] },
  };
  assert.equal(wordCompositionObstacle(sequences), undefined);
  assert.equal(wordCompositionObstacle({ ...BERT, normalizer: null }), undefined);
});

test('tokenizers that fold the space into a word, or work across words, are refused with the reason', () => {
  // GPT-2 / RoBERTa: byte-level BPE, the space is part of the next word's first token.
  const byteLevel = { model: { type: 'BPE' }, pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false }, normalizer: null };
  assert.match(wordCompositionObstacle(byteLevel) ?? '', /model BPE is not WordPiece/);
  // XLM-R: SentencePiece's Metaspace marks a word by the space before it.
  const metaspace = { ...BERT, pre_tokenizer: { type: 'Metaspace', replacement: '▁' } };
  assert.match(wordCompositionObstacle(metaspace) ?? '', /pre-tokenizer Metaspace/);
  const replace = { ...BERT, normalizer: { type: 'Sequence', normalizers: [{ type: 'Lowercase' }, { type: 'Replace', pattern: { String: '  ' }, content: ' ' }] } };
  assert.match(wordCompositionObstacle(replace) ?? '', /normalizer Replace/);
  const punctuationOnly = { ...BERT, pre_tokenizer: { type: 'Punctuation' } };
  assert.match(wordCompositionObstacle(punctuationOnly) ?? '', /no pre-tokenizer splits at whitespace/);
  const spacedToken = { ...BERT, added_tokens: [...BERT.added_tokens, { content: 'new york' }] };
  assert.match(wordCompositionObstacle(spacedToken) ?? '', /added token "new york"/);
  assert.match(wordCompositionObstacle(undefined) ?? '', /no tokenizer.json/);
});

/** A tokenizer that does compose: one id per character of each word, between 1 and 2. */
function characterTokenizer(json: unknown = BERT): WordTokenizer & { _tokenizerJSON: unknown; calls: string[] } {
  const calls: string[] = [];
  return {
    _tokenizerJSON: json,
    calls,
    encode(text, options) {
      calls.push(text);
      const ids = Array.from(text.replace(/\s+/g, '')).map((c) => c.codePointAt(0) ?? 0);
      return options?.add_special_tokens === false ? ids : [1, ...ids, 2];
    },
  };
}

test('ids come out as the tokenizer gives them, each distinct word tokenized once', () => {
  const tokenizer = characterTokenizer();
  const built = wordTokenEncoder(tokenizer);
  assert.ok('encoder' in built, 'obstacle' in built ? built.obstacle : '');
  tokenizer.calls.length = 0;
  const text = 'ab cd\tab\n\nef  cd ';
  assert.deepEqual(built.encoder(text), tokenizer.encode(text));
  tokenizer.calls.length = 0;
  built.encoder('cd ab ef gh');
  assert.deepEqual(tokenizer.calls, ['gh']);
});

test('the memo starts over at its capacity, and long words are not kept', () => {
  const tokenizer = characterTokenizer();
  const built = wordTokenEncoder(tokenizer, 2);
  assert.ok('encoder' in built);
  const long = 'x'.repeat(65);
  built.encoder(`${long} p q`);
  tokenizer.calls.length = 0;
  built.encoder(`${long} q`);
  // the long word again; q was kept, in a memo started over when it was full
  assert.deepEqual(tokenizer.calls, [long]);
  built.encoder('r s t');
  tokenizer.calls.length = 0;
  built.encoder('p');
  assert.deepEqual(tokenizer.calls, ['p']);
});

test('a tokenizer whose words change alone is caught by the probes, whatever its description says', () => {
  // Byte-level-BPE-like: a word after a space starts with another token than the same word alone.
  const marking: WordTokenizer & { _tokenizerJSON: unknown } = {
    _tokenizerJSON: BERT,
    encode: (text, options) => {
      const ids = text
        .split(/\s+/)
        .filter(Boolean)
        .flatMap((word, i) => Array.from(word).map((c, j) => (i > 0 && j === 0 ? -1 : (c.codePointAt(0) ?? 0))));
      return options?.add_special_tokens === false ? ids : [1, ...ids, 2];
    },
  };
  const built = wordTokenEncoder(marking);
  assert.ok('obstacle' in built);
  assert.match(built.obstacle, /word by word differs from the tokenizer on "Hello, world!/);
});

test('the memo does not keep alive the text a remembered word was cut from', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const tokenizer = characterTokenizer();
  const built = wordTokenEncoder(tokenizer);
  assert.ok('encoder' in built);
  const heapAfterGc = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const before = heapAfterGc();
  // A 40 MB text, and words of 13 to 64 characters from it: each one a slice of the whole text,
  // which is dropped when this returns.
  const encodeTheEnd = (text: string) => built.encoder(text.slice(-50));
  encodeTheEnd(`${'filler '.repeat(6_000_000)}remembered-word-one remembered-word-two`);
  tokenizer.calls.length = 0; // the fake's record of what it was asked
  /again/.test('again'); // V8 keeps the last string a regular expression ran on (RegExp.input)
  const retained = heapAfterGc() - before;
  assert.ok(retained < 10e6, `${(retained / 1e6).toFixed(1)} MB still held after the text was dropped`);
});
