// `keda-indexer bootstrap`: creates (or brings up to date) the queue, its dead-letter queue with a
// redrive policy, the bucket, the bucket's S3 → SQS notification and the Elasticsearch index.
// Safe to run again at any time; the chart runs it as a Helm hook.
import { createS3Client, createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import { createLogger } from '../observe/logger.js';
import { createElasticsearchClient, ElasticsearchSink, SinkStartupError } from '../sink/elasticsearch.js';
import { describeConfiguredModel, modelRecordOf, resolveWriteTarget } from '../sink/index-alias.js';
import { ensureBucket, ensureNotification, ensureQueues } from '../setup/aws-resources.js';
import { ExitCode, UserError } from './common.js';
import { cliLogLevel, loadEmbedder, usesElasticsearch } from './runtime.js';

export interface BootstrapOptions {
  readonly queueName?: string;
  readonly bucket?: string;
  readonly maxReceiveCount: number;
  /** Vector dims for the index; without it the model is loaded to measure them. */
  readonly dims?: number;
  readonly skipIndex: boolean;
}

function queueNameFrom(settings: Settings, explicit: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const fromUrl = settings.sqs.queueUrl.split('/').filter(Boolean).pop();
  return fromUrl ?? 'keda-indexer';
}

export async function runBootstrap(settings: Settings, options: BootstrapOptions, out: NodeJS.WritableStream): Promise<number> {
  if (!Number.isInteger(options.maxReceiveCount) || options.maxReceiveCount < 1 || options.maxReceiveCount > 1000) {
    throw new UserError(`--max-receive-count must be 1–1000, got ${options.maxReceiveCount}`, ExitCode.usage);
  }
  const bucket = options.bucket ?? settings.s3.bucket;
  const queueName = queueNameFrom(settings, options.queueName);
  const sqs = createSqsClient(settings.aws);
  const s3 = createS3Client(settings.aws);
  const line = (text: string) => out.write(`${text}\n`);

  const queues = await ensureQueues(sqs, {
    name: queueName,
    visibilityTimeoutSeconds: settings.sqs.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    ...(bucket === '' ? {} : { bucket }),
  });
  line(`queue        ${queues.queueUrl}`);
  line(`dead-letter  ${queues.deadLetterUrl} (after ${options.maxReceiveCount} receives)`);

  if (bucket === '') {
    line('bucket       skipped (set S3_BUCKET or --bucket)');
  } else {
    const outcome = await ensureBucket(s3, bucket, await s3.config.region());
    line(`bucket       s3://${bucket} (${outcome})`);
    await ensureNotification(s3, bucket, queues.queueArn, settings.s3.prefix);
    line(`notification s3://${bucket}/${settings.s3.prefix}* ObjectCreated/ObjectRemoved → ${queueName}`);
  }

  if (options.skipIndex || !usesElasticsearch(settings)) {
    line(`index        skipped (${options.skipIndex ? '--skip-index' : 'ELASTICSEARCH_URL not set'})`);
  } else {
    let dims = options.dims;
    if (dims === undefined) {
      const embedder = await loadEmbedder(settings, createLogger({ level: cliLogLevel(settings) }));
      dims = embedder.dimensions;
      await embedder.dispose();
    }
    const client = createElasticsearchClient(settings.elasticsearch);
    try {
      // ELASTICSEARCH_INDEX is an alias over <alias>-v1-<model> on a fresh cluster; an existing
      // concrete index of that name is used as it is (docs/operations.md, "Change the embedding model").
      const target = await resolveWriteTarget(client, settings.elasticsearch, modelRecordOf(describeConfiguredModel(settings.embedding), dims));
      const outcome = await new ElasticsearchSink(client, { ...settings.elasticsearch, index: target.index }).ensureIndex(dims);
      const where = target.alias === undefined ? target.index : `${target.alias} → ${target.index}`;
      line(`index        ${where} (${target.created ? 'created' : outcome}, ${dims} dims)`);
    } catch (error) {
      if (error instanceof SinkStartupError) throw new UserError(error.message);
      throw error;
    } finally {
      await client.close();
    }
  }
  if (settings.sqs.queueUrl !== queues.queueUrl) line(`\nexport SQS_QUEUE_URL=${queues.queueUrl}`);
  return ExitCode.ok;
}
