// The identity of a model's vectors, as an index records it: the Elasticsearch index's mapping
// `_meta` (index-alias.ts) and the local store's manifest (local-store.ts). Two spellings of one
// model (a hub id and the folder scripts/fetch-model made of it) are the same model: compared by
// name, dims and prefixes, never by where the model was loaded from. A module of its own so that
// the local store needs nothing of the Elasticsearch side.
import type { Settings } from '../config/config.js';
import { effectiveDtype, modelSlug, readModelProfile } from '../embed/model-profile.js';

/** How the vectors of an index were made: enough to embed a query the same way. */
export interface ModelRecord {
  /** Short name, the same for a hub id and a local folder of the model (model-profile.ts). */
  readonly name: string;
  /** EMBEDDING_MODEL as the creator of the index had it: a hub id, or a folder on its machine. */
  readonly source: string;
  readonly dims: number;
  readonly dtype: string;
  readonly passage_prefix: string;
  readonly query_prefix: string;
  readonly pooling: 'mean';
  readonly normalize: true;
}

/** What a model setting means, read without loading the model (for --dims and bootstrap). */
export interface ModelDescription {
  readonly model: string;
  readonly dtype: string;
  readonly passagePrefix: string;
  readonly queryPrefix: string;
}

export function modelRecordOf(model: ModelDescription, dims: number): ModelRecord {
  return {
    name: modelSlug(model.model),
    source: model.model,
    dims,
    dtype: model.dtype,
    passage_prefix: model.passagePrefix,
    query_prefix: model.queryPrefix,
    pooling: 'mean',
    normalize: true,
  };
}

/** Why vectors of `writer` do not belong in an index made with `recorded`; undefined when they do. */
export function modelMismatch(recorded: ModelRecord, writer: ModelRecord): string | undefined {
  if (recorded.name !== writer.name) return `model ${recorded.name}, not ${writer.name}`;
  if (recorded.dims !== writer.dims) return `${recorded.dims} dims, not ${writer.dims}`;
  if (recorded.passage_prefix !== writer.passage_prefix) return `passage prefix ${JSON.stringify(recorded.passage_prefix)}, not ${JSON.stringify(writer.passage_prefix)}`;
  if (recorded.query_prefix !== writer.query_prefix) return `query prefix ${JSON.stringify(recorded.query_prefix)}, not ${JSON.stringify(writer.query_prefix)}`;
  return undefined;
}

/** The model the embedding settings name, with the folder's profile applied as the embedder applies it. */
export function describeConfiguredModel(embedding: Settings['embedding']): ModelDescription {
  const profile = readModelProfile(embedding.model);
  return {
    model: embedding.model,
    dtype: effectiveDtype(embedding.model, embedding.dtype, profile),
    passagePrefix: embedding.passagePrefix || (profile.passagePrefix ?? ''),
    queryPrefix: embedding.queryPrefix || (profile.queryPrefix ?? ''),
  };
}
