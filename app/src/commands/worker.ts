// `keda-indexer worker [--drain]`: consume the queue until SIGTERM (or, with --drain, until it
// is empty), serving /healthz, /readyz and /metrics meanwhile.
import type { Server } from 'node:http';
import type { Settings } from '../config/config.js';
import { callOverheadTokens, EmbedBatcher } from '../embed/batcher.js';
import type { Embedder } from '../embed/embedder.js';
import { startHealthServer } from '../observe/health.js';
import { createLogger, logProcessWarnings, type Logger } from '../observe/logger.js';
import { createMetrics } from '../observe/metrics.js';
import type { Consumer } from '../consumer/consumer.js';
import { buildRuntime } from '../runtime.js';
import { modelRecordOf } from '../store/model-record.js';
import { StoreStartupError, type ChunkStore, type StoreProvider } from '../store/port.js';
import { allowedLocationsOf, describeLocations } from '../s3-names.js';
import { ExitCode, requireSetting, UserError } from './common.js';
import { loadEmbedder } from './runtime.js';

/**
 * How often a worker checks that the store it writes to is still the one searched (Elasticsearch:
 * that ELASTICSEARCH_INDEX still points at its index). After `keda-indexer reindex flip` the old
 * index's workers stop within this time (docs/operations.md).
 */
export const ALIAS_CHECK_MS = 10_000;

/**
 * Opens the store to write to (Elasticsearch: resolves the alias, creating version 1 and the alias
 * on an empty cluster, and makes sure the index is ready), retrying while it is unreachable: a
 * worker that starts first waits.
 */
async function openStoreWhenReachable(provider: StoreProvider, embedder: Embedder, logger: Logger, signal: AbortSignal): Promise<ChunkStore | undefined> {
  const model = modelRecordOf(embedder, embedder.dimensions);
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const store = await provider.openForWriting(model);
      logger.info({ store: store.description, dims: embedder.dimensions }, 'index ready');
      return store;
    } catch (error) {
      if (error instanceof StoreStartupError) throw new UserError(error.message);
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      logger.warn({ err: error, retryInMs: delay, store: provider.description }, 'store not reachable yet');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  return undefined;
}

async function checkQueue(
  queueSide: Promise<[typeof import('../aws.js'), typeof import('../source/sqs.js'), ...unknown[]]>,
  settings: Settings,
  queueUrl: string,
  logger: Logger,
): Promise<void> {
  const [{ createSqsClient }, { SqsQueue, queueProblemOf, describeQueueProblem }] = await queueSide;
  try {
    await new SqsQueue(createSqsClient(settings.aws, logger), queueUrl, settings.sqs.deadLetterQueueUrl).checkAccess();
  } catch (error) {
    const problem = queueProblemOf(error);
    if (problem !== undefined) throw new UserError(describeQueueProblem(queueUrl, problem));
    // Unreachable for now (network, throttling): the receive loop retries, as it does later on.
    logger.warn({ err: error, queueUrl }, 'could not check the queue; going on');
  }
}

export async function runWorker(settings: Settings, options: { drain: boolean }): Promise<number> {
  const started = performance.now();
  const logger = createLogger({ level: settings.log.level });
  // The worker's stderr is its log stream: one JSON object per line.
  logProcessWarnings(logger);
  const queueUrl = requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it to the URL of the queue to consume.');
  const { store: provider } = buildRuntime(settings);
  if (!provider.shared) {
    throw new UserError(`the worker needs a store that many workers share, not the ${provider.description}: set ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID), and STORE=elasticsearch or empty.`, ExitCode.usage);
  }

  const allowed = allowedLocationsOf(settings.s3);
  if (allowed.length === 0) {
    throw new UserError(
      'S3_ALLOWED_BUCKETS and S3_BUCKET are both empty: the worker reads only buckets it is allowed to. Set S3_BUCKET to the bucket the queue is notified from, or S3_ALLOWED_BUCKETS to a list (docs,archive/2024/).',
      ExitCode.usage,
    );
  }

  const metrics = createMetrics();
  const stop = new AbortController();
  const stopRequested = () => stop.signal.aborted;
  let worker: Consumer | undefined;
  let embedder: Embedder | undefined;
  let store: ChunkStore | undefined;
  let retirementWatch: { stop(): void } | undefined;

  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'signal received');
    stop.abort();
    worker?.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  let server: Server | undefined;
  if (settings.http.port !== 0) {
    server = await startHealthServer(
      settings.http.port,
      {
        live: () => worker?.live() ?? true,
        ready: async () => embedder !== undefined && store !== undefined && !stop.signal.aborted && (worker?.queueUsable() ?? true) && (await provider.ping()),
      },
      metrics.registry,
    );
  }
  try {
    // The model loads in a thread of its own (embed/model-thread.ts). Meanwhile the main thread
    // makes the first request to the store (connection, TLS handshake) and loads the queue side:
    // the AWS SDK's S3 and SQS clients and the file pipeline.
    const warmUp = provider.ping();
    const queueSide = Promise.all([import('../aws.js'), import('../source/sqs.js'), import('../consumer/consumer.js'), import('../pipeline/file-handler.js'), import('../pipeline/index-file.js')]);
    // A queue that does not exist or may not be used stops the worker at once with the fix, rather
    // than a receive loop that retries for ever. The model keeps loading in its thread meanwhile.
    await checkQueue(queueSide, settings, queueUrl, logger);
    embedder = await loadEmbedder(settings, logger);
    await warmUp;
    logger.info({ model: embedder.model, device: embedder.device, dims: embedder.dimensions, preload: embedder.preload, tokenCounting: embedder.tokenCounting }, 'model loaded');
    const sink = await openStoreWhenReachable(provider, embedder, logger, stop.signal);
    if (sink === undefined || stop.signal.aborted) return ExitCode.ok;
    store = sink;

    const [{ createS3Client, createSqsClient }, { SqsQueue }, { Consumer, consumerOptionsFrom }, { FileHandler }, { FileIndexer }] = await queueSide;
    // A signal may have come while those loaded, before a Consumer existed to be told.
    if (stopRequested()) return ExitCode.ok;

    const batcher = new EmbedBatcher(embedder, {
      batchTokens: settings.embedding.batchTokens,
      callOverheadTokens: callOverheadTokens(embedder.device, settings.embedding.batchTokens),
      lingerMs: 10,
      onBatch: ({ texts, paddedTokens }) => {
        metrics.embedBatchTexts.observe(texts);
        metrics.embedPaddedTokens.inc(paddedTokens);
      },
    });
    const indexer = new FileIndexer(embedder, batcher, sink, settings, undefined, {
      converterLogger: logger,
      onOcr: (file, ocr) => {
        metrics.ocrPages.inc(ocr.pages);
        if (ocr.stopped === undefined) return;
        metrics.ocrStopped.inc({ limit: ocr.stopped.limit });
        logger.warn({ file: file.filePath, ocr }, 'OCR budget reached: the file is indexed as far as OCR got');
      },
    });
    const queue = new SqsQueue(createSqsClient(settings.aws, logger), queueUrl, settings.sqs.deadLetterQueueUrl);
    const files = new FileHandler(createS3Client(settings.aws, logger), indexer, settings, metrics);
    worker = new Consumer(queue, files.handle, consumerOptionsFrom(settings), logger, metrics);
    // After a flip this worker's vectors belong to an index search no longer reads: stop taking
    // messages (they wait in the queue) and exit; a restarted worker resolves the alias again.
    retirementWatch = sink.watchRetirement?.(ALIAS_CHECK_MS, {
      onRetired: (fields) => {
        logger.warn(fields, 'alias moved away from this index: stopping');
        worker?.stop();
      },
      onError: (error: unknown) => {
        logger.warn({ err: error }, 'could not check the alias');
      },
    });
    logger.info({ queueUrl, allowedBuckets: describeLocations(allowed), store: sink.description, concurrency: settings.worker.concurrency, startupSeconds: (performance.now() - started) / 1000, drain: options.drain }, 'worker ready');
    await worker.run({ drain: options.drain });
    logger.info('worker stopped');
    return ExitCode.ok;
  } finally {
    retirementWatch?.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    server?.close();
    await embedder?.dispose();
    await store?.close();
    await provider.close();
  }
}
