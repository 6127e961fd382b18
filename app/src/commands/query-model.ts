// Which model embeds a search query: the one recorded in the `_meta` of the index the alias points
// at, never simply EMBEDDING_MODEL, so a query cannot be compared with vectors of another model
// (store/elasticsearch/index-alias.ts). But `_meta` only says WHICH model; what is loaded is always one the
// operator configured: EMBEDDING_MODEL or an entry of SEARCH_ALLOWED_MODELS. Anyone who can write
// an index's mapping could otherwise make `search` download a hub repository or open a folder of
// their choosing (issue #27, row 11).
import type { Settings } from '../config/config.js';
import { isEmbeddingDtype, type EmbeddingDtype } from '../embed/choices.js';
import { createEmbedder, type Embedder } from '../embed/embedder.js';
import { modelSlug } from '../embed/model-profile.js';
import type { Logger } from '../observe/logger.js';
import type { ModelRecord } from '../store/model-record.js';
import { UserError } from './common.js';
import { printable } from '../terminal-safe.js';

export interface QueryModelChoice {
  /** What to load: a hub id or a local folder, always EMBEDDING_MODEL or from SEARCH_ALLOWED_MODELS. */
  readonly model: string;
  readonly dtype: EmbeddingDtype;
  readonly passagePrefix: string;
  readonly queryPrefix: string;
}


/**
 * The configured model that made the recorded vectors: EMBEDDING_MODEL when it is that model (by
 * name, whatever its spelling: hub id or folder), else the first entry of SEARCH_ALLOWED_MODELS
 * that is. The recorded location (`_meta.source`) is never loaded.
 */
export function queryModelFor(settings: Settings, index: string, recorded: ModelRecord | undefined): QueryModelChoice {
  const configured = settings.embedding;
  if (recorded === undefined) {
    // An index made before `_meta` (or by another tool): EMBEDDING_MODEL, as before.
    return { model: configured.model, dtype: configured.dtype, passagePrefix: configured.passagePrefix, queryPrefix: configured.queryPrefix };
  }
  const dtype = isEmbeddingDtype(recorded.dtype) ? recorded.dtype : configured.dtype;
  const model = [configured.model, ...configured.searchAllowedModels].find((candidate) => modelSlug(candidate) === recorded.name);
  if (model !== undefined) return { model, dtype, passagePrefix: recorded.passage_prefix, queryPrefix: recorded.query_prefix };
  // The recorded names come from the index: quoted through printable(), as anything read from it.
  const name = printable(recorded.name);
  throw new UserError(
    `index ${index} holds vectors of model ${name} (${recorded.dims} dims, made with EMBEDDING_MODEL=${printable(recorded.source)}), ` +
      `which is neither EMBEDDING_MODEL (${configured.model}) nor in SEARCH_ALLOWED_MODELS${configured.searchAllowedModels.length === 0 ? ' (empty)' : ` (${configured.searchAllowedModels.join(', ')})`}. ` +
      `Fix: add that model's Hugging Face id or local folder (scripts/fetch-model --model ${name}) to SEARCH_ALLOWED_MODELS, or set EMBEDDING_MODEL to it.`,
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
