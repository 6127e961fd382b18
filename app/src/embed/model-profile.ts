// What a model folder says about how the model wants to be used, beyond what transformers.js reads:
// the prefixes it was trained with (e5: "passage: " / "query: ") and, for a folder that holds only
// one set of weights, which. It is the file `keda-indexer.json` in a local model folder
// (scripts/fetch-model writes one for e5-small-v2; docs/model.md). Settings win over it: a
// non-empty EMBEDDING_PASSAGE_PREFIX / EMBEDDING_QUERY_PREFIX replaces the folder's prefix.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { EMBEDDING_DTYPES, type EmbeddingDtype } from './choices.js';

export type ProfileDtype = EmbeddingDtype;

export interface ModelProfile {
  readonly passagePrefix?: string;
  readonly queryPrefix?: string;
  /** Weights the folder holds, used when the configured EMBEDDING_DTYPE's file is not there. */
  readonly dtype?: ProfileDtype;
}

export const PROFILE_FILE = 'keda-indexer.json';

/** Weights file of each dtype in a transformers.js model folder. */
export const WEIGHTS_FILE: Readonly<Record<ProfileDtype, string>> = {
  fp32: 'onnx/model.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q8: 'onnx/model_quantized.onnx',
};

function optionalString(value: unknown, key: string, file: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`${file}: "${key}" must be a string`);
  return value;
}

/**
 * Prefixes of model families that need them, for a hub id or a folder without keda-indexer.json
 * (the chart's download init container fetches only the hub's files). From the model cards: e5
 * wants "query: " / "passage: "; without them its scores degrade.
 */
function builtInProfile(model: string): ModelProfile {
  return /^(multilingual-)?e5-/.test(modelSlug(model)) ? { passagePrefix: 'passage: ', queryPrefix: 'query: ' } : {};
}

/** The profile of a model: its folder's keda-indexer.json, else what is known of its family. */
export function readModelProfile(model: string): ModelProfile {
  if (!path.isAbsolute(model)) return builtInProfile(model);
  const file = path.join(model, PROFILE_FILE);
  if (!existsSync(file)) return builtInProfile(model);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const dtype = optionalString(raw.dtype, 'dtype', file);
  if (dtype !== undefined && !(dtype in WEIGHTS_FILE)) throw new Error(`${file}: "dtype" must be one of ${EMBEDDING_DTYPES.join(', ')}, not ${dtype}`);
  const passagePrefix = optionalString(raw.passage_prefix, 'passage_prefix', file);
  const queryPrefix = optionalString(raw.query_prefix, 'query_prefix', file);
  return {
    ...(passagePrefix === undefined ? {} : { passagePrefix }),
    ...(queryPrefix === undefined ? {} : { queryPrefix }),
    ...(dtype === undefined ? {} : { dtype: dtype as ProfileDtype }),
  };
}

/**
 * The dtype to load: the configured one, unless the folder lacks its weights and its profile
 * names the weights it has (the e5 folder holds only q8).
 */
export function effectiveDtype(model: string, configured: ProfileDtype, profile: ModelProfile): ProfileDtype {
  if (!path.isAbsolute(model) || profile.dtype === undefined) return configured;
  return existsSync(path.join(model, WEIGHTS_FILE[configured])) ? configured : profile.dtype;
}

/**
 * A short stable name of a model, the same for its hub id and for a local folder of it:
 * "Xenova/e5-small-v2" and "/models/e5-small-v2" both give "e5-small-v2". It names physical
 * indices and tells whether two settings mean the same model.
 */
export function modelSlug(model: string): string {
  const base = path.isAbsolute(model) ? path.basename(path.resolve(model)) : (model.split('/').pop() ?? model);
  const slug = base
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug === '' ? 'model' : slug;
}
