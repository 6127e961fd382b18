// The embed stage's model: text in, one L2-normalised vector per text out, with the model's own
// tokenizer exposed so the split stage can measure chunks exactly as the model will see them.
//
// transformers.js resolves a model either from the Hugging Face hub (an id such as
// "Xenova/all-MiniLM-L6-v2") or from a local folder. A local folder is given as an absolute path;
// remote loading is then switched off so a missing file fails here instead of reaching for a hub
// that may be unreachable.
import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Logger } from '../observe/logger.js';
import { ModelFileCache } from './model-files.js';
import { effectiveDtype, readModelProfile } from './model-profile.js';
import { meanPoolNormalized } from './pooling.js';

export type EmbeddingDevice = 'cpu' | 'cuda' | 'auto';
export type EmbeddingDtype = 'fp32' | 'fp16' | 'q8';

export interface EmbedderOptions {
  /** Hugging Face model id, or an absolute path to a local model folder. */
  readonly model: string;
  readonly device: EmbeddingDevice;
  readonly dtype: EmbeddingDtype;
  /** Folder where hub downloads are cached and looked up first; transformers.js's default if absent. */
  readonly cacheDir?: string;
  /** onnxruntime intra-op threads; 0 or absent: onnxruntime's default (one per core). */
  readonly threads?: number;
  /**
   * Put before every passage (chunk) and every query, for models trained with prefixes (e5, bge).
   * Empty or absent: the local model folder's keda-indexer.json decides (model-profile.ts).
   */
  readonly passagePrefix?: string;
  readonly queryPrefix?: string;
  readonly logger: Logger;
}

export type TextKind = 'passage' | 'query';

export interface Embedder {
  readonly model: string;
  /** The device the model actually runs on (auto resolved). */
  readonly device: 'cpu' | 'cuda';
  /** Weights actually loaded (the folder's profile may replace the configured dtype). */
  readonly dtype: EmbeddingDtype;
  /** Prefixes actually applied, after settings and the folder's profile. */
  readonly passagePrefix: string;
  readonly queryPrefix: string;
  /** Vector length the model produces (384 for all-MiniLM-L6-v2). */
  readonly dimensions: number;
  /** Longest input the model accepts, in tokens, special tokens included. */
  readonly modelMaxTokens: number;
  /** Tokens of a passage as the model will see it: prefix and special tokens included. */
  countTokens(text: string): number;
  embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/** The tokenizer's output as the model takes it (transformers.js Tensors). */
interface ModelInputs {
  readonly attention_mask: { readonly data: BigInt64Array };
}

interface ModelOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  dispose(): void;
}

export class EmbedderStartupError extends Error {
  override readonly name = 'EmbedderStartupError';
}

const CUDA_FIX =
  'install onnxruntime-node with its CUDA 12 providers (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --allow-scripts=onnxruntime-node) ' +
  'on an image with CUDA 12 and cuDNN 9, and give the pod a GPU; or set EMBEDDING_DEVICE=cpu or auto';

/** Splits a local absolute path into what transformers.js wants: a search root and a model id. */
function resolveModelLocation(model: string): { id: string; localRoot?: string } {
  if (!path.isAbsolute(model)) return { id: model };
  const folder = path.resolve(model);
  return { id: path.basename(folder), localRoot: path.dirname(folder) };
}

async function loadPipeline(id: string, device: 'cpu' | 'cuda', options: EmbedderOptions): Promise<FeatureExtractionPipeline> {
  const threads = options.threads ?? 0;
  return pipeline('feature-extraction', id, {
    device,
    dtype: options.dtype,
    ...(threads > 0 ? { session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } } : {}),
  });
}

async function loadOnDevice(
  id: string,
  options: EmbedderOptions,
): Promise<{ extractor: FeatureExtractionPipeline; device: 'cpu' | 'cuda' }> {
  if (options.device === 'cpu') return { extractor: await loadPipeline(id, 'cpu', options), device: 'cpu' };
  try {
    return { extractor: await loadPipeline(id, 'cuda', options), device: 'cuda' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.device === 'cuda') {
      throw new EmbedderStartupError(`EMBEDDING_DEVICE=cuda but the CUDA provider cannot be used (${reason}). Fix: ${CUDA_FIX}.`, {
        cause: error,
      });
    }
    options.logger.warn({ reason }, 'EMBEDDING_DEVICE=auto: CUDA not usable, falling back to CPU');
    return { extractor: await loadPipeline(id, 'cpu', options), device: 'cpu' };
  }
}

export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const location = resolveModelLocation(options.model);
  let profile;
  try {
    profile = readModelProfile(options.model);
  } catch (error) {
    throw new EmbedderStartupError(`EMBEDDING_MODEL ${options.model}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const dtype = effectiveDtype(options.model, options.dtype, profile);
  if (dtype !== options.dtype) options.logger.info({ configured: options.dtype, loaded: dtype }, 'the model folder holds only other weights: loading those (keda-indexer.json)');
  // transformers.js keeps these in module-global state: set every one for this model.
  env.allowRemoteModels = location.localRoot === undefined;
  env.allowLocalModels = location.localRoot !== undefined;
  if (location.localRoot !== undefined) env.localModelPath = location.localRoot + path.sep;
  if (options.cacheDir !== undefined && options.cacheDir !== '') env.cacheDir = options.cacheDir;
  // Our cache, not transformers.js's file cache: model files go to onnxruntime by path (model-files.ts).
  env.useCustomCache = true;
  env.customCache = new ModelFileCache({ root: location.localRoot ?? env.cacheDir ?? '', remoteHost: env.remoteHost });
  let loaded: Awaited<ReturnType<typeof loadOnDevice>>;
  try {
    loaded = await loadOnDevice(location.id, { ...options, dtype });
  } catch (error) {
    if (error instanceof EmbedderStartupError) throw error;
    throw new EmbedderStartupError(
      `could not load embedding model ${options.model}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Fix: set EMBEDDING_MODEL to a Hugging Face id reachable from here, or to the absolute path of a local model folder (scripts/fetch-model).',
      { cause: error },
    );
  }
  const { extractor, device } = loaded;
  const { tokenizer } = extractor;
  const passagePrefix = options.passagePrefix || (profile.passagePrefix ?? '');
  const queryPrefix = options.queryPrefix || (profile.queryPrefix ?? '');

  const embed = async (texts: readonly string[], kind: TextKind): Promise<Float32Array[]> => {
    if (texts.length === 0) return [];
    const prefix = kind === 'passage' ? passagePrefix : queryPrefix;
    return embedTexts(extractor, prefix === '' ? texts : texts.map((text) => prefix + text));
  };

  // Some tokenizer configs leave this out or set a huge sentinel; 512 is BERT's position limit.
  const declaredMax: unknown = tokenizer.model_max_length;
  const modelMaxTokens = typeof declaredMax === 'number' && declaredMax > 0 && declaredMax < 1e6 ? declaredMax : 512;

  const probe = await embed(['dimension probe'], 'passage');
  const dimensions = probe[0]?.length ?? 0;
  if (dimensions === 0) throw new EmbedderStartupError(`model ${options.model} produced an empty embedding`);

  return {
    model: options.model,
    device,
    dtype,
    passagePrefix,
    queryPrefix,
    dimensions,
    modelMaxTokens,
    countTokens: (text) => tokenizer.encode(passagePrefix + text).length,
    embed,
    dispose: () => extractor.dispose(),
  };
}

/**
 * One model call: what the feature-extraction pipeline does (tokenize with padding and
 * truncation, run the model), with pooling of our own (pooling.ts says why).
 */
export async function embedTexts(extractor: FeatureExtractionPipeline, texts: readonly string[]): Promise<Float32Array[]> {
  const encoded = extractor.tokenizer([...texts], { padding: true, truncation: true }) as ModelInputs;
  const outputs = (await extractor.model(encoded)) as Record<string, ModelOutput>;
  try {
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
    if (hidden === undefined) throw new Error(`model outputs ${Object.keys(outputs).join(', ')}: no token vectors`);
    return meanPoolNormalized({ data: hidden.data, dims: hidden.dims as [number, number, number] }, encoded.attention_mask.data);
  } finally {
    for (const output of Object.values(outputs)) output.dispose();
  }
}

/** Cosine similarity of two vectors of equal length. */
export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return dot / Math.sqrt(normA * normB);
}
