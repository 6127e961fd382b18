// `keda-indexer worker [--drain]`: consume the queue until SIGTERM (or, with --drain, until it
// is empty), serving /healthz, /readyz and /metrics meanwhile.
import type { Server } from 'node:http';
import type { Client } from '@elastic/elasticsearch';
import type { Settings } from '../config/config.js';
import { callOverheadTokens, EmbedBatcher } from '../embed/batcher.js';
import type { Embedder } from '../embed/embedder.js';
import { startHealthServer } from '../observe/health.js';
import { createLogger, logProcessWarnings, type Logger } from '../observe/logger.js';
import { createMetrics } from '../observe/metrics.js';
import type { Consumer } from '../consumer/consumer.js';
import { createElasticsearchClient, ElasticsearchSink, SinkStartupError } from '../store/elasticsearch/chunks.js';
import { metadataMappingOf } from '../store/elasticsearch/metadata-fields.js';
import { modelRecordOf, resolveWriteTarget, watchAlias, type WriteTarget } from '../store/elasticsearch/index-alias.js';
import { allowedLocationsOf, describeLocations } from '../s3-names.js';
import { ExitCode, requireSetting, UserError } from './common.js';
import { loadEmbedder, usesElasticsearch } from './runtime.js';

/**
 * How often a worker checks that ELASTICSEARCH_INDEX still points at the index it writes to. After
 * `keda-indexer reindex flip` the old index's workers stop within this time (docs/operations.md).
 */
export const ALIAS_CHECK_MS = 10_000;

/**
 * Resolves the index to write to (creating version 1 and the alias on an empty cluster) and makes
 * sure it is ready, retrying while Elasticsearch is unreachable: a worker that starts first waits.
 */
async function ensureIndexWhenReachable(
  client: Client,
  settings: Settings,
  embedder: Embedder,
  logger: Logger,
  signal: AbortSignal,
): Promise<{ sink: ElasticsearchSink; target: WriteTarget } | undefined> {
  const model = modelRecordOf(embedder, embedder.dimensions);
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      const target = await resolveWriteTarget(client, settings.elasticsearch, model);
      const sink = new ElasticsearchSink(client, { ...settings.elasticsearch, index: target.index }, metadataMappingOf(settings));
      const outcome = await sink.ensureIndex(embedder.dimensions);
      logger.info({ index: target.index, alias: target.alias, outcome, dims: embedder.dimensions }, 'index ready');
      return { sink, target };
    } catch (error) {
      if (error instanceof SinkStartupError) throw new UserError(error.message);
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
      logger.warn({ err: error, retryInMs: delay }, 'Elasticsearch not reachable yet');
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
  if (!usesElasticsearch(settings)) {
    throw new UserError('ELASTICSEARCH_URL (or ELASTICSEARCH_CLOUD_ID) is not set: the worker writes to Elasticsearch.', ExitCode.usage);
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
  const esClient = createElasticsearchClient(settings.elasticsearch);
  // Pings only; the sink that writes is made once the alias is resolved.
  const probe = new ElasticsearchSink(esClient, settings.elasticsearch);
  let indexReady = false;
  let aliasWatch: { stop(): void } | undefined;

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
        ready: async () => embedder !== undefined && indexReady && !stop.signal.aborted && (worker?.queueUsable() ?? true) && (await probe.ping()),
      },
      metrics.registry,
    );
  }
  try {
    // The model loads in a thread of its own (embed/model-thread.ts). Meanwhile the main thread
    // makes the first Elasticsearch request (connection, TLS handshake) and loads the queue side:
    // the AWS SDK's S3 and SQS clients and the file pipeline.
    const warmUp = probe.ping();
    const queueSide = Promise.all([import('../aws.js'), import('../source/sqs.js'), import('../consumer/consumer.js'), import('../pipeline/file-handler.js'), import('../pipeline/index-file.js')]);
    // A queue that does not exist or may not be used stops the worker at once with the fix, rather
    // than a receive loop that retries for ever. The model keeps loading in its thread meanwhile.
    await checkQueue(queueSide, settings, queueUrl, logger);
    embedder = await loadEmbedder(settings, logger);
    await warmUp;
    logger.info({ model: embedder.model, device: embedder.device, dims: embedder.dimensions, preload: embedder.preload, tokenCounting: embedder.tokenCounting }, 'model loaded');
    const ready = await ensureIndexWhenReachable(esClient, settings, embedder, logger, stop.signal);
    if (ready === undefined || stop.signal.aborted) return ExitCode.ok;
    const { sink, target } = ready;
    indexReady = true;

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
    if (target.alias !== undefined) {
      // After a flip this worker's vectors belong to an index search no longer reads: stop taking
      // messages (they wait in the queue) and exit; a restarted worker resolves the alias again.
      aliasWatch = watchAlias(esClient, { alias: target.alias, index: target.index }, ALIAS_CHECK_MS, {
        onMoved: (now) => {
          logger.warn({ alias: target.alias, from: target.index, to: now.kind === 'missing' ? null : now.index }, 'alias moved away from this index: stopping');
          worker?.stop();
        },
        onError: (error: unknown) => {
          logger.warn({ err: error }, 'could not check the alias');
        },
      });
    }
    logger.info({ queueUrl, allowedBuckets: describeLocations(allowed), index: target.index, alias: target.alias, concurrency: settings.worker.concurrency, startupSeconds: (performance.now() - started) / 1000, drain: options.drain }, 'worker ready');
    await worker.run({ drain: options.drain });
    logger.info('worker stopped');
    return ExitCode.ok;
  } finally {
    aliasWatch?.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    server?.close();
    await embedder?.dispose();
    await esClient.close();
  }
}
