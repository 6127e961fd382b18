// `keda-indexer bootstrap`: creates (or brings up to date) the queue, its dead-letter queue with a
// redrive policy, the bucket, the bucket's S3 → SQS notification and the store's index (where the
// store is made ahead of its writers: Elasticsearch).
// Safe to run again at any time; the chart runs it as a Helm hook.
import { createS3Client, createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import { createLogger } from '../observe/logger.js';
import { buildRuntime } from '../runtime.js';
import { describeConfiguredModel, modelRecordOf } from '../store/model-record.js';
import { StoreStartupError } from '../store/port.js';
import {
  ensureBucket,
  ensureNotification,
  ensureQueues,
  planNotification,
  readNotification,
  type NotificationEntry,
  type NotificationPlan,
} from '../setup/aws-resources.js';
import { ExitCode, UserError } from './common.js';
import { cliLogLevel, loadEmbedder } from './runtime.js';

export interface BootstrapOptions {
  readonly queueName?: string;
  readonly bucket?: string;
  /** The bucket owner's account, for the queue policy's aws:SourceAccount; default: the queue's. */
  readonly bucketAccount?: string;
  readonly maxReceiveCount: number;
  /** Vector dims for the index; without it the model is loaded to measure them. */
  readonly dims?: number;
  readonly skipIndex: boolean;
  /** Leave the bucket and its notification alone (a queue filled by backfill only, or notifications managed elsewhere). */
  readonly skipBucket: boolean;
}

function queueNameFrom(settings: Settings, explicit: string | undefined): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const fromUrl = settings.sqs.queueUrl.split('/').filter(Boolean).pop();
  return fromUrl ?? 'keda-indexer';
}

function describeEntry(entry: NotificationEntry): string {
  const keys = [entry.prefix === '' ? 'every key' : `keys under "${entry.prefix}"`, ...(entry.suffix === '' ? [] : [`ending "${entry.suffix}"`])].join(' ');
  return `configuration "${entry.id}" sends ${entry.events.join(', ')} for ${keys} to ${entry.destination}`;
}

/** The refusal when another configuration would overlap bootstrap's: S3 itself would reject the write. */
function conflictError(bucket: string, prefix: string, plan: Extract<NotificationPlan, { kind: 'conflict' }>): UserError {
  return new UserError(
    [
      `s3://${bucket} cannot also notify this queue of ${prefix === '' ? 'every key' : `keys under "${prefix}"`}: ` +
        `S3 refuses configurations whose event types and prefix/suffix overlap, and ${plan.with.map(describeEntry).join('; ')}. Nothing was changed.`,
      'Fix: a queue filled by `keda-indexer backfill` only (a reindex queue) needs no notification: add --skip-bucket.',
      '     A second pipeline on this bucket needs a prefix of its own that neither starts nor is started by the other\'s ' +
        '(S3_PREFIX=tickets/ beside S3_PREFIX=contracts/), or a bucket of its own (--bucket).',
    ].join('\n'),
    ExitCode.failure,
  );
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
  const manageBucket = bucket !== '' && !options.skipBucket;

  // Refuse before creating anything when the notification could not be added (checked again
  // just before the write, which needs the queue's ARN).
  if (manageBucket) {
    const current = await readNotification(s3, bucket);
    const plan = current === undefined ? undefined : planNotification(current, { queueName, queueArn: '', prefix: settings.s3.prefix });
    if (plan?.kind === 'conflict') throw conflictError(bucket, settings.s3.prefix, plan);
  }

  const queues = await ensureQueues(sqs, {
    name: queueName,
    visibilityTimeoutSeconds: settings.sqs.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    ...(manageBucket ? { bucket } : {}),
    ...(manageBucket && options.bucketAccount !== undefined ? { bucketAccount: options.bucketAccount } : {}),
  });
  line(`queue        ${queues.queueUrl}`);
  line(`dead-letter  ${queues.deadLetterUrl} (after ${options.maxReceiveCount} receives)`);

  if (!manageBucket) {
    line(`bucket       skipped (${options.skipBucket ? '--skip-bucket' : 'set S3_BUCKET or --bucket'})`);
  } else {
    const outcome = await ensureBucket(s3, bucket, await s3.config.region());
    line(`bucket       s3://${bucket} (${outcome})`);
    const readTags = settings.metadata.readTags;
    const plan = await ensureNotification(s3, bucket, { queueName, queueArn: queues.queueArn, prefix: settings.s3.prefix, readTags });
    const what = `s3://${bucket}/${settings.s3.prefix}* ObjectCreated/ObjectRemoved${readTags ? '/ObjectTagging' : ''} → ${queueName}`;
    if (plan.kind === 'conflict') throw conflictError(bucket, settings.s3.prefix, plan);
    if (plan.kind === 'covered') line(`notification ${what} (already, by ${describeEntry(plan.by)}; not bootstrap's, left as it is)`);
    else line(`notification ${what} (${plan.kind === 'put' ? plan.outcome : 'unchanged'}; other configurations kept)`);
  }

  const { store } = buildRuntime(settings);
  if (options.skipIndex || store.prepare === undefined) {
    line(`index        skipped (${options.skipIndex ? '--skip-index' : `the ${store.description} is made by its first write`})`);
  } else {
    let dims = options.dims;
    if (dims === undefined) {
      const embedder = await loadEmbedder(settings, createLogger({ level: cliLogLevel(settings) }));
      dims = embedder.dimensions;
      await embedder.dispose();
    }
    try {
      line(`index        ${await store.prepare(modelRecordOf(describeConfiguredModel(settings.embedding), dims))}`);
    } catch (error) {
      if (error instanceof StoreStartupError) throw new UserError(error.message);
      throw error;
    } finally {
      await store.close();
    }
  }
  if (settings.sqs.queueUrl !== queues.queueUrl) line(`\nexport SQS_QUEUE_URL=${queues.queueUrl}`);
  return ExitCode.ok;
}
