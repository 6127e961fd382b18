// The Node contenders of the embedding race.
//
// - embedStage: the worker's embed stage exactly as the worker builds it (createEmbedder from
//   app/src, EmbedBatcher with the configured token budget), fed every chunk at once as chunks of
//   many files in flight would be.
// - rawSession: the limit. An onnxruntime-node session on the same ONNX file with the options
//   transformers.js gives it, fed batches that were tokenized, length-bucketed (planBatches, same
//   budget) and turned into tensors before the clock starts: nothing but session.run is timed.
// - variantStage: the embed stage's code path with harness-chosen levers (session options, dtype,
//   pooling in transformers.js's pipeline), to measure a change before or after app/src makes it.
import path from 'node:path';
import { AutoTokenizer, env, pipeline, type FeatureExtractionPipeline, type PreTrainedTokenizer } from '@huggingface/transformers';
import * as ort from 'onnxruntime-node';
import { EmbedBatcher, planBatches } from '../../app/src/embed/batcher.js';
import { createEmbedder, embedTexts, type Embedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import type { BenchChunk } from './chunks.js';

export interface EmbedRun {
  readonly seconds: number;
  readonly chunks: number;
  readonly tokens: number;
  readonly vectors?: Float32Array[];
}

export const tokensOf = (chunks: readonly BenchChunk[]) => chunks.reduce((n, c) => n + c.tokens, 0);

export async function loadStage(modelDir: string, dtype: 'fp32' | 'q8' = 'fp32'): Promise<Embedder> {
  // Token ids are not reused: the bench counts tokens of its samples with this same embedder, and
  // a reference embed stage must tokenize every text it embeds. Counting calls the tokenizer on
  // the whole text: what the harness times as "tokenizing once more" is the tokenizer itself.
  return createEmbedder({ model: modelDir, device: 'cpu', dtype, reuseTokenIds: false, tokenCounting: 'whole-text', logger: silentLogger() });
}

export async function runStage(embedder: Pick<Embedder, 'embed'>, chunks: readonly BenchChunk[], batchTokens: number, keep = false): Promise<EmbedRun> {
  const batcher = new EmbedBatcher(embedder, { batchTokens, lingerMs: 0 });
  const started = performance.now();
  const vectors = await batcher.embedPassages(chunks);
  const seconds = (performance.now() - started) / 1000;
  return { seconds, chunks: chunks.length, tokens: tokensOf(chunks), ...(keep ? { vectors } : {}) };
}

// ---------------------------------------------------------------------------------------------
// The raw session

export interface RawSession {
  readonly session: ort.InferenceSession;
  readonly tokenizer: PreTrainedTokenizer;
}

export async function loadRaw(modelDir: string, options: ort.InferenceSession.SessionOptions = {}, file = 'model.onnx'): Promise<RawSession> {
  const session = await ort.InferenceSession.create(path.join(modelDir, 'onnx', file), {
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
    ...options,
  });
  setLocal(modelDir);
  const tokenizer = await AutoTokenizer.from_pretrained(path.basename(modelDir));
  return { session, tokenizer };
}

function setLocal(modelDir: string): void {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(modelDir) + path.sep;
}

type Feeds = Record<string, ort.Tensor>;

/** Tokenizes and bucketts ahead of time: the feeds of every model call. */
export function prepareFeeds(raw: RawSession, chunks: readonly BenchChunk[], batchTokens: number): Feeds[] {
  const names = new Set(raw.session.inputNames);
  return planBatches(chunks, batchTokens).map((batch) => {
    const encoded = raw.tokenizer(
      batch.map((c) => c.text),
      { padding: true, truncation: true, max_length: 256 },
    ) as Record<string, { data: BigInt64Array; dims: number[] }>;
    const feeds: Feeds = {};
    for (const name of ['input_ids', 'attention_mask', 'token_type_ids']) {
      const tensor = encoded[name];
      if (names.has(name) && tensor) feeds[name] = new ort.Tensor('int64', tensor.data, tensor.dims);
    }
    return feeds;
  });
}

export async function runRaw(raw: RawSession, feeds: readonly Feeds[], chunks: readonly BenchChunk[]): Promise<EmbedRun> {
  const started = performance.now();
  for (const feed of feeds) {
    const out = await raw.session.run(feed);
    for (const tensor of Object.values(out)) tensor.dispose();
  }
  return { seconds: (performance.now() - started) / 1000, chunks: chunks.length, tokens: tokensOf(chunks) };
}

// ---------------------------------------------------------------------------------------------
// Variants of the embed stage, for the levers

export interface VariantOptions {
  readonly dtype?: 'fp32' | 'q8';
  readonly sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Pool and normalise inside transformers.js's pipeline, as the stage did before pooling.ts. */
  readonly pipelinePooling?: boolean;
}

export async function loadVariant(modelDir: string, options: VariantOptions): Promise<Pick<Embedder, 'embed'> & { dispose(): Promise<void> }> {
  setLocal(modelDir);
  const extractor: FeatureExtractionPipeline = await pipeline('feature-extraction', path.basename(modelDir), {
    device: 'cpu',
    dtype: options.dtype ?? 'fp32',
    ...(options.sessionOptions ? { session_options: options.sessionOptions as Record<string, unknown> } : {}),
  });
  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    if (options.pipelinePooling) {
      const output = await extractor([...texts], { pooling: 'mean', normalize: true });
      const [rows, width] = output.dims as [number, number];
      const data = output.data as Float32Array;
      const vectors: Float32Array[] = [];
      for (let row = 0; row < rows; row++) vectors.push(data.slice(row * width, (row + 1) * width));
      output.dispose();
      return vectors;
    }
    return embedTexts(extractor, texts);
  };
  return { embed: (texts) => embed(texts), dispose: () => extractor.dispose() };
}
