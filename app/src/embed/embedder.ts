// The embed stage's model: text in, one L2-normalised vector per text out, with the model's own
// tokenizer exposed so the split stage can measure chunks exactly as the model will see them.
//
// transformers.js resolves a model either from the Hugging Face hub (an id such as
// "Xenova/all-MiniLM-L6-v2") or from a local folder. A local folder is given as an absolute path;
// remote loading is then switched off so a missing file fails here instead of reaching for a hub
// that may be unreachable.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { env, pipeline, Tensor, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { Logger } from '../observe/logger.js';
import { stageCpu } from '../observe/stage-cpu.js';
import { ModelFileCache } from './model-files.js';
import { effectiveDtype, readModelProfile, WEIGHTS_FILE, type ProfileDtype } from './model-profile.js';
import type { ModelSessionError } from './model-thread.js';
import { meanPoolNormalized } from './pooling.js';
import { threadOptions } from './session-plan.js';
import { EmbedderStartupError } from './startup-error.js';
import { wordTokenEncoder } from './word-tokens.js';

import type { EmbeddingDevice, EmbeddingDtype, ResolvedDevice } from './choices.js';

export type { EmbeddingDevice, EmbeddingDtype } from './choices.js';

export interface EmbedderOptions {
  /** Hugging Face model id, or an absolute path to a local model folder. */
  readonly model: string;
  /** What names the model, for messages: the setting or flag to fix. Default EMBEDDING_MODEL. */
  readonly modelSetting?: string;
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
  /**
   * Keep the token ids countTokens computes for the embed call of the same passage (TokenIdCache),
   * so each chunk is tokenized once. Default true; the benchmark's embed-only references turn it
   * off so that they tokenize as a bare embed stage does.
   */
  readonly reuseTokenIds?: boolean;
  /**
   * How countTokens tokenizes: 'words' puts a passage together from a memo of each word's ids where
   * the tokenizer allows it exactly (word-tokens.ts), 'whole-text' calls the tokenizer on the whole
   * passage. Default 'words'; the benchmark's references measure the tokenizer itself.
   */
  readonly tokenCounting?: 'words' | 'whole-text';
  readonly logger: Logger;
}

export type TextKind = 'passage' | 'query';

export interface Embedder {
  readonly model: string;
  /** The device the model actually runs on (auto resolved). */
  readonly device: ResolvedDevice;
  /** Weights actually loaded (the folder's profile may replace the configured dtype). */
  readonly dtype: EmbeddingDtype;
  /** Prefixes actually applied, after settings and the folder's profile. */
  readonly passagePrefix: string;
  readonly queryPrefix: string;
  /** Whether the session preloaded at start (preload.ts) was the one used. */
  readonly preload: 'none' | 'used' | 'missed';
  /** Vector length the model produces (384 for all-MiniLM-L6-v2). */
  readonly dimensions: number;
  /** Longest input the model accepts, in tokens, special tokens included. */
  readonly modelMaxTokens: number;
  /** Tokens of a passage as the model will see it: prefix and special tokens included. */
  countTokens(text: string): number;
  embed(texts: readonly string[], kind: TextKind): Promise<Float32Array[]>;
  /** Passages embedded from the token ids countTokens kept, and passages tokenized again. */
  readonly tokenIdReuse?: { readonly reused: number; readonly tokenized: number };
  /** How countTokens tokenizes, and why not word by word where it does not (word-tokens.ts). */
  readonly tokenCounting: { readonly mode: 'words' | 'whole-text'; readonly reason?: string };
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

export { EmbedderStartupError };

const CUDA_FIX =
  'install onnxruntime-node with its CUDA 12 providers (ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --allow-scripts=onnxruntime-node) ' +
  'on an image with CUDA 12 and cuDNN 9, and give the pod a GPU; or set EMBEDDING_DEVICE=cpu or auto';

/** Splits a local absolute path into what transformers.js wants: a search root and a model id. */
function resolveModelLocation(model: string): { id: string; localRoot?: string } {
  if (!path.isAbsolute(model)) return { id: model };
  const folder = path.resolve(model);
  return { id: path.basename(folder), localRoot: path.dirname(folder) };
}

/** Names the onnxruntime backend a session on `device` is created by (model-thread.ts). */
type BackendFor = (device: ResolvedDevice) => string;

async function loadPipeline(id: string, device: ResolvedDevice, backendFor: BackendFor, options: EmbedderOptions): Promise<FeatureExtractionPipeline> {
  return pipeline('feature-extraction', id, {
    device,
    dtype: options.dtype,
    session_options: {
      // The session loads and runs in a thread of its own (model-thread.ts).
      executionProviders: [backendFor(device)],
      ...threadOptions(options.threads),
    },
  });
}

async function loadOnDevice(
  id: string,
  backendFor: BackendFor,
  options: EmbedderOptions,
): Promise<{ extractor: FeatureExtractionPipeline; device: ResolvedDevice }> {
  if (options.device === 'cpu') return { extractor: await loadPipeline(id, 'cpu', backendFor, options), device: 'cpu' };
  try {
    return { extractor: await loadPipeline(id, 'cuda', backendFor, options), device: 'cuda' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.device === 'cuda') {
      throw new EmbedderStartupError(`EMBEDDING_DEVICE=cuda but the CUDA provider cannot be used (${reason}). Fix: ${CUDA_FIX}.`, {
        cause: error,
      });
    }
    options.logger.warn({ reason }, 'EMBEDDING_DEVICE=auto: CUDA not usable, falling back to CPU');
    return { extractor: await loadPipeline(id, 'cpu', backendFor, options), device: 'cpu' };
  }
}

/** Files transformers.js needs in a local model folder, besides the weights. */
const FOLDER_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/**
 * The model setting's own faults, found before transformers.js is asked: its messages name the
 * library's options and search paths, not the setting a user has to change.
 */
function checkModelSetting(model: string, setting: string): void {
  if (model.trim() === '') {
    throw new EmbedderStartupError(`${setting} is empty. Fix: set ${setting} to a Hugging Face id (such as Xenova/all-MiniLM-L6-v2) or to the absolute path of a local model folder (scripts/fetch-model prints one).`, {
      misconfigured: true,
    });
  }
  if (path.isAbsolute(model) && !(existsSync(model) && statSync(model).isDirectory())) {
    throw new EmbedderStartupError(`${setting}=${model}: no such folder. Fix: set ${setting} to the absolute path of a local model folder (scripts/fetch-model prints one), or to a Hugging Face id.`, {
      misconfigured: true,
    });
  }
}

/** A local model folder lacking what transformers.js reads. */
function checkModelFolder(model: string, setting: string, dtype: ProfileDtype): void {
  if (!path.isAbsolute(model)) return;
  const missing = [...FOLDER_FILES, WEIGHTS_FILE[dtype]].filter((file) => !existsSync(path.join(model, file)));
  if (missing.length > 0) {
    throw new EmbedderStartupError(
      `${setting}=${model} is not a complete model folder: ${missing.join(', ')} missing. Fix: fetch the model again (scripts/fetch-model), or set ${setting} to another model folder or a Hugging Face id.`,
    );
  }
}

/** The first error in a cause chain that `pick` accepts. */
function findCause<T>(error: unknown, pick: (candidate: unknown) => T | undefined): T | undefined {
  for (let current: unknown = error, depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    const found = pick(current);
    if (found !== undefined) return found;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Why the hub could not be reached (ENOTFOUND, ECONNREFUSED…), when that is what failed. */
function networkFailure(error: unknown): string | undefined {
  const fetchFailed = findCause(error, (candidate) => (candidate instanceof TypeError && candidate.message === 'fetch failed' ? candidate : undefined));
  const code = findCause(error, (candidate) => {
    const value = (candidate as { code?: unknown }).code;
    return typeof value === 'string' && /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(value) ? value : undefined;
  });
  return code ?? (fetchFailed === undefined ? undefined : 'fetch failed');
}

/** A load failure in words a user acts on: what failed, and the setting to change. */
function describeLoadFailure(error: unknown, model: string, setting: string, sessionErrorType: typeof ModelSessionError): EmbedderStartupError {
  const session = findCause(error, (candidate) => (candidate instanceof sessionErrorType ? candidate : undefined));
  if (session !== undefined) {
    const file = session.file === undefined ? 'file' : path.isAbsolute(model) ? path.relative(model, session.file) : path.basename(session.file);
    return new EmbedderStartupError(
      `could not load embedding model ${model}: onnxruntime could not load its weights, ${file} (${session.reason}). ` +
        `Fix: if the file is truncated or damaged, fetch the model again (scripts/fetch-model); or set ${setting} to another model.`,
      { cause: error },
    );
  }
  const network = path.isAbsolute(model) ? undefined : networkFailure(error);
  if (network !== undefined) {
    return new EmbedderStartupError(
      `could not download embedding model ${model}: the Hugging Face hub (${env.remoteHost}) is not reachable from here (${network}). ` +
        `Fix: set ${setting} to the absolute path of a local model folder (scripts/fetch-model), or let this machine reach the hub.`,
      { cause: error },
    );
  }
  return new EmbedderStartupError(
    `could not load embedding model ${model}: ${(error instanceof Error ? error.message : String(error)).replace(/\.+$/, '')}. ` +
      `Fix: set ${setting} to a Hugging Face id reachable from here, or to the absolute path of a local model folder (scripts/fetch-model).`,
    { cause: error },
  );
}

export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const setting = options.modelSetting ?? 'EMBEDDING_MODEL';
  checkModelSetting(options.model, setting);
  // Started first: the thread loads onnxruntime while the tokenizer and config are read here.
  const { registerModelThreadBackend, modelThreadBackend, takePreloadOutcome, ModelSessionError } = await import('./model-thread.js');
  registerModelThreadBackend();
  const location = resolveModelLocation(options.model);
  let profile;
  try {
    profile = readModelProfile(options.model);
  } catch (error) {
    throw new EmbedderStartupError(`${setting}=${options.model}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const dtype = effectiveDtype(options.model, options.dtype, profile);
  checkModelFolder(options.model, setting, dtype);
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
    loaded = await loadOnDevice(location.id, modelThreadBackend, { ...options, dtype });
  } catch (error) {
    if (error instanceof EmbedderStartupError) throw error;
    throw describeLoadFailure(error, options.model, setting, ModelSessionError);
  }
  const { extractor, device } = loaded;
  const preload = takePreloadOutcome();
  const { tokenizer } = extractor;
  const passagePrefix = options.passagePrefix || (profile.passagePrefix ?? '');
  const queryPrefix = options.queryPrefix || (profile.queryPrefix ?? '');

  // Some tokenizer configs leave this out or set a huge sentinel; 512 is BERT's position limit.
  const declaredMax: unknown = tokenizer.model_max_length;
  const modelMaxTokens = typeof declaredMax === 'number' && declaredMax > 0 && declaredMax < 1e6 ? declaredMax : 512;
  const tokenIds = options.reuseTokenIds === false ? undefined : new TokenIdCache(TOKEN_ID_CACHE_ENTRIES);
  const padId: unknown = tokenizer.pad_token_id;
  const reuse = { reused: 0, tokenized: 0 };
  const byWords = options.tokenCounting === 'whole-text' ? { obstacle: 'tokenCounting: whole-text' } : wordTokenEncoder(tokenizer);
  const encodePassage = 'encoder' in byWords ? byWords.encoder : (text: string) => tokenizer.encode(text);

  const embed = async (texts: readonly string[], kind: TextKind): Promise<Float32Array[]> => {
    if (texts.length === 0) return [];
    const prefix = kind === 'passage' ? passagePrefix : queryPrefix;
    const inputs = prefix === '' ? texts : texts.map((text) => prefix + text);
    const known = tokenIds === undefined || kind !== 'passage' ? [] : inputs.map((text) => tokenIds.take(text));
    // Ids from countTokens are what the tokenizer call below would produce, less the padding: use
    // them when every text of the batch has them and none needs truncating.
    const reusable = known.length > 0 && typeof padId === 'number' && known.every((ids) => ids !== undefined && ids.length <= modelMaxTokens);
    if (kind === 'passage') reuse[reusable ? 'reused' : 'tokenized'] += inputs.length;
    return reusable ? embedTokenIds(extractor, known as number[][], padId) : embedTexts(extractor, inputs);
  };

  let dimensions: number;
  try {
    const probe = await embed(['dimension probe'], 'passage');
    dimensions = probe[0]?.length ?? 0;
    if (dimensions === 0) throw new EmbedderStartupError(`model ${options.model} produced an empty embedding. Fix: set ${setting} to a sentence-embedding model.`);
  } catch (error) {
    // The session's thread goes with it: nothing will use it now.
    await extractor.dispose();
    throw error;
  }

  return {
    model: options.model,
    device,
    dtype,
    preload,
    passagePrefix,
    queryPrefix,
    dimensions,
    modelMaxTokens,
    countTokens: (text) => {
      const input = passagePrefix + text;
      const ids = encodePassage(input);
      tokenIds?.put(input, ids);
      return ids.length;
    },
    embed,
    tokenIdReuse: reuse,
    tokenCounting: 'encoder' in byWords ? { mode: 'words' } : { mode: 'whole-text', reason: byWords.obstacle },
    dispose: () => extractor.dispose(),
  };
}

/**
 * How many texts' token ids countTokens keeps for their embed call. The split stage counts every
 * chunk of a file before the file's chunks reach the model, so this covers files of a few thousand
 * chunks in flight (at 256 tokens, ~2 KB of ids each: a few MB at most); a chunk whose ids were
 * dropped is simply tokenized again.
 */
const TOKEN_ID_CACHE_ENTRIES = 4096;

/** Token ids by text, oldest dropped first; an entry is handed out once. */
export class TokenIdCache {
  private readonly entries = new Map<string, number[]>();

  constructor(private readonly capacity: number) {}

  put(text: string, ids: number[]): void {
    this.entries.delete(text);
    this.entries.set(text, ids);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  take(text: string): number[] | undefined {
    const ids = this.entries.get(text);
    if (ids !== undefined) this.entries.delete(text);
    return ids;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One model call on token ids already known: padded on the right, as the tokenizer pads. */
async function embedTokenIds(extractor: FeatureExtractionPipeline, ids: readonly (readonly number[])[], padId: number): Promise<Float32Array[]> {
  const { encoded, mask } = stageCpu.sync('embed', () => tensorsOf(ids, padId));
  return runModel(extractor, encoded, mask);
}

/** Model inputs from token ids: padded on the right, as the tokenizer pads. */
function tensorsOf(ids: readonly (readonly number[])[], padId: number): { encoded: Record<string, Tensor>; mask: BigInt64Array } {
  const width = Math.max(...ids.map((row) => row.length));
  const dims = [ids.length, width];
  const inputIds = new BigInt64Array(ids.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(ids.length * width);
  ids.forEach((row, r) => {
    row.forEach((id, j) => {
      inputIds[r * width + j] = BigInt(id);
      mask[r * width + j] = 1n;
    });
  });
  const encoded = {
    input_ids: new Tensor('int64', inputIds, dims),
    attention_mask: new Tensor('int64', mask, dims),
    // One segment per text: all zeros, as the tokenizer returns them.
    token_type_ids: new Tensor('int64', new BigInt64Array(ids.length * width), dims),
  };
  return { encoded, mask };
}

/**
 * One model call: what the feature-extraction pipeline does (tokenize with padding and
 * truncation, run the model), with pooling of our own (pooling.ts says why).
 */
export async function embedTexts(extractor: FeatureExtractionPipeline, texts: readonly string[]): Promise<Float32Array[]> {
  const encoded = stageCpu.sync('embed', () => extractor.tokenizer([...texts], { padding: true, truncation: true }) as ModelInputs);
  return runModel(extractor, encoded, encoded.attention_mask.data);
}

async function runModel(extractor: FeatureExtractionPipeline, encoded: object, attentionMask: BigInt64Array): Promise<Float32Array[]> {
  const outputs = (await extractor.model(encoded)) as Record<string, ModelOutput>;
  try {
    const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
    if (hidden === undefined) throw new Error(`model outputs ${Object.keys(outputs).join(', ')}: no token vectors`);
    return stageCpu.sync('embed', () => meanPoolNormalized({ data: hidden.data, dims: hidden.dims as [number, number, number] }, attentionMask));
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
