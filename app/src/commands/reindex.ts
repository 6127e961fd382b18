// `keda-indexer reindex status|create|verify|flip|delete`: change the embedding model without
// downtime. The steps are the store's (Elasticsearch: store/elasticsearch/reindex.ts); this module
// checks the options, loads the new model for `create`, and refuses where the store has no versions.
// docs/operations.md, "Change the embedding model", is the operator's walk-through.
import type { Settings } from '../config/config.js';
import type { EmbeddingDtype } from '../embed/choices.js';
import { createLogger } from '../observe/logger.js';
import { buildRuntime } from '../runtime.js';
import { describeConfiguredModel, modelRecordOf, type ModelDescription } from '../store/model-record.js';
import type { FlipOptions, Reindexing, VerifyOptions } from '../store/port.js';
import { ExitCode, UserError } from './common.js';
import { cliLogLevel, loadEmbedder } from './runtime.js';

export type { FlipOptions, VerifyOptions } from '../store/port.js';

type Out = NodeJS.WritableStream;

export interface CreateOptions {
  readonly model: string;
  readonly dims?: number;
  readonly dtype?: EmbeddingDtype;
  readonly passagePrefix?: string;
  readonly queryPrefix?: string;
}

/** Runs one step on the store's versions; a store without them (the local store) is refused. */
async function withReindexing(settings: Settings, step: (reindexing: Reindexing) => Promise<boolean>): Promise<number> {
  const { store } = buildRuntime(settings);
  try {
    if (store.reindexing === undefined) {
      throw new UserError(`${store.description} keeps one version of the index: reindex works on Elasticsearch (set ELASTICSEARCH_URL, or STORE=elasticsearch).`, ExitCode.usage);
    }
    return (await step(store.reindexing)) ? ExitCode.ok : ExitCode.failure;
  } finally {
    await store.close();
  }
}

function ratioOk(ratio: number): void {
  if (!(ratio >= 1)) throw new UserError(`--max-chunk-ratio must be a number ≥ 1, got ${ratio}`, ExitCode.usage);
}

export async function runReindexStatus(settings: Settings, out: Out): Promise<number> {
  return withReindexing(settings, (reindexing) => reindexing.status(out));
}

export async function runReindexCreate(settings: Settings, options: CreateOptions, out: Out): Promise<number> {
  if (options.model === '') throw new UserError('--model is required: a Hugging Face id or the absolute path of a local model folder', ExitCode.usage);
  if (options.dims !== undefined && (!Number.isInteger(options.dims) || options.dims < 1 || options.dims > 4096)) {
    throw new UserError(`--dims must be an integer from 1 to 4096, got ${options.dims}`, ExitCode.usage);
  }
  // The store is asked first: where it has no versions, the model is not loaded for nothing.
  return withReindexing(settings, async (reindexing) => {
    const embedding = {
      ...settings.embedding,
      model: options.model,
      ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
      passagePrefix: options.passagePrefix ?? '',
      queryPrefix: options.queryPrefix ?? '',
    };
    let description: ModelDescription = describeConfiguredModel(embedding);
    let dims = options.dims;
    if (dims === undefined) {
      // Loading the model measures its dims and checks that it loads at all, before any index exists.
      const embedder = await loadEmbedder({ ...settings, embedding }, createLogger({ level: cliLogLevel(settings) }), '--model');
      dims = embedder.dimensions;
      description = embedder;
      await embedder.dispose();
    }
    return reindexing.create(modelRecordOf(description, dims), options.model, out);
  });
}

export async function runReindexVerify(settings: Settings, options: VerifyOptions, out: Out): Promise<number> {
  ratioOk(options.maxChunkRatio);
  return withReindexing(settings, (reindexing) => reindexing.verify(options, out));
}

export async function runReindexFlip(settings: Settings, options: FlipOptions, out: Out): Promise<number> {
  ratioOk(options.maxChunkRatio);
  return withReindexing(settings, (reindexing) => reindexing.flip(options, out));
}

export async function runReindexDelete(settings: Settings, options: { index?: string }, out: Out): Promise<number> {
  return withReindexing(settings, (reindexing) => reindexing.delete(options, out));
}
