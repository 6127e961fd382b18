// Which model embeds a search query: the one recorded in the `_meta` of the index the alias points
// at, never simply EMBEDDING_MODEL, so a query cannot be compared with vectors of another model
// (sink/index-alias.ts). EMBEDDING_MODEL still says where models live on this machine.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../config/config.js';
import { createEmbedder, type Embedder, type EmbeddingDtype } from '../embed/embedder.js';
import { modelSlug } from '../embed/model-profile.js';
import type { Logger } from '../observe/logger.js';
import type { ModelRecord } from '../sink/model-record.js';
import { UserError } from './common.js';

export interface QueryModelChoice {
  /** What to load: a hub id or a local folder. */
  readonly model: string;
  readonly dtype: EmbeddingDtype;
  readonly passagePrefix: string;
  readonly queryPrefix: string;
}

const DTYPES: readonly string[] = ['fp32', 'fp16', 'q8'];

/**
 * Where the recorded model is found here, in order: EMBEDDING_MODEL when it is that model; the
 * recorded location when it exists here (a hub id, or the same folder); a folder of that name
 * beside the EMBEDDING_MODEL folder (scripts/fetch-model puts every model under one cache folder).
 */
export function queryModelFor(settings: Settings, index: string, recorded: ModelRecord | undefined): QueryModelChoice {
  const configured = settings.embedding;
  if (recorded === undefined) {
    // An index made before `_meta` (or by another tool): EMBEDDING_MODEL, as before.
    return { model: configured.model, dtype: configured.dtype, passagePrefix: configured.passagePrefix, queryPrefix: configured.queryPrefix };
  }
  const dtype = (DTYPES.includes(recorded.dtype) ? recorded.dtype : configured.dtype) as EmbeddingDtype;
  const choice = (model: string): QueryModelChoice => ({ model, dtype, passagePrefix: recorded.passage_prefix, queryPrefix: recorded.query_prefix });
  if (modelSlug(configured.model) === recorded.name) return choice(configured.model);
  // The recorded location: a folder that exists here, or a hub id where this machine uses hub ids
  // (with a local EMBEDDING_MODEL folder the hub is likely out of reach: look beside it instead).
  const recordedUsable = path.isAbsolute(recorded.source) ? existsSync(recorded.source) : !path.isAbsolute(configured.model);
  if (recordedUsable) return choice(recorded.source);
  if (path.isAbsolute(configured.model)) {
    const sibling = path.join(path.dirname(path.resolve(configured.model)), recorded.name);
    if (existsSync(sibling)) return choice(sibling);
    // A folder holding the files under the model's original spelling (scripts/fetch-model names
    // folders as the model does, e.g. all-MiniLM-L6-v2).
    const original = path.join(path.dirname(path.resolve(configured.model)), path.basename(recorded.source));
    if (existsSync(original)) return choice(original);
  }
  throw new UserError(
    `index ${index} holds vectors of model ${recorded.name} (${recorded.dims} dims, made with EMBEDDING_MODEL=${recorded.source}), ` +
      `which is not available here (EMBEDDING_MODEL is ${configured.model}). Fix: set EMBEDDING_MODEL to a local folder of ${recorded.name} ` +
      `(scripts/fetch-model --model ${recorded.name}) or to its Hugging Face id.`,
  );
}

/** Embedders for queries, loaded once per model and kept: a search loop reuses them. */
export class QueryModels {
  private readonly loaded = new Map<string, Promise<Embedder>>();

  constructor(
    private readonly settings: Settings,
    private readonly logger: Logger,
  ) {}

  /**
   * The embedder for an index (Elasticsearch's, or the local store's folder) whose vectors are of
   * `recorded` (undefined: an index without a recorded model).
   */
  async forIndex(index: string, recorded: ModelRecord | undefined): Promise<Embedder> {
    const choice = queryModelFor(this.settings, index, recorded);
    const key = JSON.stringify(choice);
    let embedder = this.loaded.get(key);
    if (embedder === undefined) {
      embedder = createEmbedder({
        ...choice,
        device: this.settings.embedding.device,
        cacheDir: this.settings.embedding.cacheDir,
        threads: this.settings.embedding.threads,
        logger: this.logger,
      });
      this.loaded.set(key, embedder);
    }
    const ready = await embedder;
    if (recorded !== undefined && ready.dimensions !== recorded.dims) {
      throw new UserError(`index ${index} holds ${recorded.dims}-dim vectors of ${recorded.name}, but ${choice.model} produces ${ready.dimensions}. Fix: set EMBEDDING_MODEL to the model the index was made with.`);
    }
    return ready;
  }

  async dispose(): Promise<void> {
    const all = await Promise.allSettled(this.loaded.values());
    for (const result of all) if (result.status === 'fulfilled') await result.value.dispose();
    this.loaded.clear();
  }
}
