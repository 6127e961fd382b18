// Building blocks every command assembles the same way from settings.
import { createEmbedder, type Embedder } from '../embed/embedder.js';
import type { Settings } from '../config/config.js';
import type { Logger } from '../observe/logger.js';

/** `modelSetting`: what named the model, for messages (reindex create's --model). */
export function loadEmbedder(settings: Settings, logger: Logger, modelSetting = 'EMBEDDING_MODEL'): Promise<Embedder> {
  return createEmbedder({
    model: settings.embedding.model,
    modelSetting,
    device: settings.embedding.device,
    dtype: settings.embedding.dtype,
    cacheDir: settings.embedding.cacheDir,
    threads: settings.embedding.threads,
    passagePrefix: settings.embedding.passagePrefix,
    queryPrefix: settings.embedding.queryPrefix,
    logger,
  });
}

/** CLI commands print for people; JSON logs stay quiet unless LOG_LEVEL asks for them. */
export function cliLogLevel(settings: Settings): string {
  return process.env.LOG_LEVEL === undefined ? 'warn' : settings.log.level;
}
