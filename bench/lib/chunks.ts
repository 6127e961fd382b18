// Chunks of the corpus, made by the project's own split stage with the model's own tokenizer, so
// the benchmark embeds what the worker would embed. Two ways of splitting give a realistic spread
// of lengths: the worker's default (150 words, 20 overlap; long chunks) and three passages
// (paragraphs) per chunk, no overlap (short to medium chunks).
import { splitText, type SplitOptions } from '../../app/src/split/splitter.js';
import type { Document } from './corpus.js';

export interface BenchChunk {
  readonly id: string;
  readonly text: string;
  /** Tokens as the model sees them, special tokens included. */
  readonly tokens: number;
}

export function corpusChunks(documents: readonly Document[], countTokens: (text: string) => number, maxTokens: number): BenchChunk[] {
  const chunks: BenchChunk[] = [];
  const modes: { name: string; options: Omit<SplitOptions, 'countTokens' | 'maxTokens'> }[] = [
    { name: 'w150', options: { by: 'word', length: 150, overlap: 20 } },
    { name: 'p3', options: { by: 'passage', length: 3, overlap: 0 } },
  ];
  for (const document of documents) {
    const text = document.paragraphs.join('\n\n');
    for (const mode of modes) {
      for (const chunk of splitText({ text }, { ...mode.options, maxTokens, countTokens })) {
        chunks.push({ id: `${document.name}#${mode.name}#${chunk.splitId}`, text: chunk.content, tokens: chunk.tokens });
      }
    }
  }
  return chunks;
}

/** Every k-th chunk in a fixed order: a sample with the corpus's length distribution. */
export function stratifiedSample<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]!);
}
