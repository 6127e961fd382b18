// The embed stage: text in, one L2-normalised vector per text out.
//
// transformers.js resolves a model either from the Hugging Face hub (an id such as
// "Xenova/all-MiniLM-L6-v2") or from a local folder. A local folder is given as an absolute path;
// remote loading is then switched off so a missing file fails here instead of reaching for a hub
// that may be unreachable.
import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';

export type EmbeddingDevice = 'cpu' | 'cuda';
export type EmbeddingDtype = 'fp32' | 'fp16' | 'q8';

export interface EmbedderOptions {
  /** Hugging Face model id, or an absolute path to a local model folder. */
  readonly model: string;
  readonly device: EmbeddingDevice;
  readonly dtype: EmbeddingDtype;
}

export interface Embedder {
  readonly model: string;
  /** Vector length the model produces (384 for all-MiniLM-L6-v2). */
  readonly dimensions: number;
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

export const DEFAULT_EMBEDDING_MODEL = 'Xenova/all-MiniLM-L6-v2';

/** Splits a local absolute path into what transformers.js wants: a search root and a model id. */
function resolveModelLocation(model: string): { id: string; localRoot?: string } {
  if (!path.isAbsolute(model)) return { id: model };
  const folder = path.resolve(model);
  return { id: path.basename(folder), localRoot: path.dirname(folder) };
}

export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const location = resolveModelLocation(options.model);
  if (location.localRoot !== undefined) {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = location.localRoot + path.sep;
  }
  const extractor: FeatureExtractionPipeline = await pipeline('feature-extraction', location.id, {
    device: options.device,
    dtype: options.dtype,
  });

  const embed = async (texts: readonly string[]): Promise<Float32Array[]> => {
    if (texts.length === 0) return [];
    const output = await extractor([...texts], { pooling: 'mean', normalize: true });
    const [rows, width] = output.dims as [number, number];
    const data = output.data as Float32Array;
    const vectors: Float32Array[] = [];
    for (let row = 0; row < rows; row++) {
      vectors.push(data.slice(row * width, (row + 1) * width));
    }
    output.dispose();
    return vectors;
  };

  const probe = await embed(['dimension probe']);
  const dimensions = probe[0]?.length ?? 0;
  if (dimensions === 0) throw new Error(`model ${options.model} produced an empty embedding`);

  return {
    model: options.model,
    dimensions,
    embed,
    dispose: () => extractor.dispose(),
  };
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
