// A passage's token ids, put together word by word from a memo of each word's ids.
//
// Why: the split stage measures every chunk it cuts with the model's tokenizer (the embed stage
// then reuses those ids), and transformers.js's tokenizer walks the text character by character
// at every call: about a third of a second of main-thread CPU for 150,000 words, second only to
// PDF conversion. On a GPU the main thread sets the pace. Words repeat (a worker meets the same
// few ten thousand in file after file, and overlapping windows count their shared words twice),
// so each distinct word is tokenized once and then looked up.
//
// This is exact only for tokenizers whose ids for a text are their special tokens around the
// concatenated ids of its whitespace-separated words: normalizers that work character by
// character, a pre-tokenizer that splits at whitespace, and a WordPiece vocabulary (BERT and the
// sentence-embedding models built on it: all-MiniLM, e5, bge, gte). Byte-level BPE (GPT-2,
// RoBERTa) and SentencePiece (XLM-R) fold the space into the next word's first token, so a word
// alone tokenizes differently: those keep the whole-text tokenizer. The tokenizer's own
// description is checked first, then the composition is compared with the tokenizer on strings
// chosen to break it (control characters, non-breaking spaces, accents, CJK, added tokens).

/** What this needs of a transformers.js tokenizer. */
export interface WordTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): number[];
}

/** transformers.js keeps the parsed tokenizer.json here (PreTrainedTokenizer's constructor). */
interface WithTokenizerJson {
  readonly _tokenizerJSON?: unknown;
}

interface Component {
  readonly type?: unknown;
  readonly normalizers?: unknown;
  readonly pretokenizers?: unknown;
}

// Normalizers that map each character on its own (Unicode normalization forms combine a base with
// the marks after it, never across a space), so normalizing word by word changes nothing.
const PER_CHARACTER_NORMALIZERS = new Set(['BertNormalizer', 'Lowercase', 'StripAccents', 'NFC', 'NFD', 'NFKC', 'NFKD']);
// Pre-tokenizers that only ever cut a word further; the first three cut at every whitespace.
const WHITESPACE_PRE_TOKENIZERS = new Set(['BertPreTokenizer', 'Whitespace', 'WhitespaceSplit']);
const WITHIN_WORD_PRE_TOKENIZERS = new Set([...WHITESPACE_PRE_TOKENIZERS, 'Punctuation', 'Digits']);

const asComponents = (value: unknown): Component[] | undefined =>
  Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null) ? (value as Component[]) : undefined;

/** The members of a component, a Sequence's flattened; undefined for an unreadable one. */
function members(value: unknown, listKey: 'normalizers' | 'pretokenizers'): Component[] | undefined {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object') return undefined;
  const component = value as Component;
  if (component.type !== 'Sequence') return [component];
  const list = asComponents(component[listKey]);
  if (list === undefined) return undefined;
  const flat: Component[] = [];
  for (const item of list) {
    const inner = members(item, listKey);
    if (inner === undefined) return undefined;
    flat.push(...inner);
  }
  return flat;
}

/**
 * Why a tokenizer.json cannot be put together word by word, or undefined when it can. Pure: the
 * description alone decides; wordTokenEncoder also compares outputs.
 */
export function wordCompositionObstacle(tokenizerJson: unknown): string | undefined {
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null) return 'no tokenizer.json';
  const json = tokenizerJson as { model?: Component; normalizer?: unknown; pre_tokenizer?: unknown; added_tokens?: unknown };
  if (json.model?.type !== 'WordPiece') return `model ${String(json.model?.type)} is not WordPiece`;
  const normalizers = members(json.normalizer, 'normalizers');
  if (normalizers === undefined) return 'normalizer unreadable';
  const odd = normalizers.find((n) => !PER_CHARACTER_NORMALIZERS.has(String(n.type)));
  if (odd !== undefined) return `normalizer ${String(odd.type)} may work across words`;
  const preTokenizers = members(json.pre_tokenizer, 'pretokenizers');
  if (preTokenizers === undefined) return 'pre-tokenizer unreadable';
  const joining = preTokenizers.find((p) => !WITHIN_WORD_PRE_TOKENIZERS.has(String(p.type)));
  if (joining !== undefined) return `pre-tokenizer ${String(joining.type)} may work across words`;
  if (!preTokenizers.some((p) => WHITESPACE_PRE_TOKENIZERS.has(String(p.type)))) return 'no pre-tokenizer splits at whitespace';
  // An added token matched across a space ("new york") would be missed word by word.
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { content?: unknown }[]) : [];
  const spaced = added.find((token) => typeof token.content === 'string' && /\s/.test(token.content));
  if (spaced !== undefined) return `added token ${JSON.stringify(spaced.content)} holds whitespace`;
  return undefined;
}

// Where words are cut: characters every accepted normalizer keeps as whitespace and every accepted
// pre-tokenizer splits at. Other spaces (no-break, ideographic) stay inside a "word" and the
// tokenizer itself splits them there, so a word here may be several of the tokenizer's words.
export const WORD_GAPS = /[ \t\n\r]+/;

// Strings on which a wrong composition would show: every one must come out exactly as the
// tokenizer's own output, or the whole-text tokenizer is used.
const PROBES = [
  '',
  'Hello, world! It’s 3.14 — (really).',
  '  leading, trailing and  doubled   spaces  ',
  'tabs\tand\nnew lines\r\nhere',
  'naïve café résumé Ωμέγα ΟΔΟΣ ΣΊΣΥΦΟΣ',
  '漢字かな交じり文 mixed 한국어',
  'no\u00a0break and\u3000ideographic spaces',
  'vertical\u000btab, form\u000cfeed, zero\u200bwidth, byte\ufefforder, line\u2028separator',
  'e\u0301 \u0301x combining marks',
  'emoji 🙂👍🏽 and symbols ©®™',
  `${'x'.repeat(150)} a word longer than WordPiece reads`,
  '[CLS] [SEP] [MASK] [UNK] [PAD] written out, and x[SEP]y',
];

/** Most words remembered; past it the memo starts over (a few MB at most). */
const DEFAULT_CAPACITY = 1 << 15;
/** Longer words are tokenized every time: rare, and not worth their memory. */
const LONGEST_REMEMBERED = 64;
/**
 * A word split out of a passage is, from 13 characters on, a slice that keeps the whole text it
 * was cut from alive (V8's sliced strings), and a passage is itself a slice of its file's text: a
 * memo keyed by such words would hold on to every file it has seen a long word of. It keeps a
 * copy of those words instead (UTF-16 round trip: lossless, lone surrogates included).
 */
const SLICED_FROM = 13;
const detached = (word: string): string => (word.length < SLICED_FROM ? word : Buffer.from(word, 'utf16le').toString('utf16le'));

export interface WordTokenEncoder {
  /** Token ids of `text` with the special tokens, exactly as tokenizer.encode(text) gives them. */
  (text: string): number[];
}

/**
 * An encoder that puts a text's ids together from each word's, or the reason it cannot (the
 * caller then keeps tokenizer.encode).
 */
export function wordTokenEncoder(
  tokenizer: WordTokenizer & WithTokenizerJson,
  capacity = DEFAULT_CAPACITY,
): { encoder: WordTokenEncoder } | { obstacle: string } {
  const obstacle = wordCompositionObstacle(tokenizer._tokenizerJSON);
  if (obstacle !== undefined) return { obstacle };
  // The special tokens around a text: what encode adds around a word's bare ids.
  const bare = tokenizer.encode('a', { add_special_tokens: false });
  const full = tokenizer.encode('a');
  const at = full.findIndex((_, i) => bare.every((id, j) => full[i + j] === id));
  if (bare.length === 0 || at < 0) return { obstacle: 'special tokens do not surround the text' };
  const head = full.slice(0, at);
  const tail = full.slice(at + bare.length);

  let memo = new Map<string, readonly number[]>();
  const encoder: WordTokenEncoder = (text) => {
    const ids = [...head];
    for (const word of text.split(WORD_GAPS)) {
      if (word === '') continue;
      let wordIds = memo.get(word);
      if (wordIds === undefined) {
        wordIds = tokenizer.encode(word, { add_special_tokens: false });
        if (word.length <= LONGEST_REMEMBERED) {
          if (memo.size >= capacity) memo = new Map();
          memo.set(detached(word), wordIds);
        }
      }
      for (const id of wordIds) ids.push(id);
    }
    for (const id of tail) ids.push(id);
    return ids;
  };
  for (const probe of PROBES) {
    const expected = tokenizer.encode(probe);
    const composed = encoder(probe);
    if (composed.length !== expected.length || composed.some((id, i) => id !== expected[i])) {
      return { obstacle: `word by word differs from the tokenizer on ${JSON.stringify(probe)}` };
    }
  }
  return { encoder };
}
