// `keda-indexer doctor`: checks settings, AWS credentials and resources, the model, and the store
// (Elasticsearch and its index mapping against the model: the store's own checks); prints each
// result with how to fix it.
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../aws.js';
import { ConfigError, type Settings } from '../config/config.js';
import type { Embedder } from '../embed/embedder.js';
import { silentLogger } from '../observe/logger.js';
import { buildRuntime } from '../runtime.js';
import { modelRecordOf } from '../store/model-record.js';
import { notificationTargets } from '../setup/aws-resources.js';
import { countByReason, DeadLetterScanRefused, queueDepth, scanDeadLetters } from '../source/dead-letters.js';
import { SqsQueue } from '../source/sqs.js';
import { ExitCode } from './common.js';
import { loadEmbedder } from './runtime.js';

type Status = 'ok' | 'warn' | 'fail' | 'skip';

interface Check {
  readonly name: string;
  readonly status: Status;
  readonly detail: string;
  readonly fix?: string;
}

const MARK: Record<Status, string> = { ok: '✓', warn: '!', fail: '✗', skip: '-' };

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Messages doctor reads from the dead-letter queue to name their reasons (dlq list reads more). */
const DOCTOR_DLQ_SCAN = 100;

/** The dead-letter queue's depth and the reasons of what waits there, read without consuming it. */
async function deadLetterCheck(sqs: SQSClient, deadLetterUrl: string): Promise<Check> {
  const name = 'dead-letter queue';
  const fix = 'see the files with `keda-indexer dlq list`; fix the cause (docs/operations.md, "The dead-letter message"), then `keda-indexer redrive --reason R`';
  let scan;
  try {
    scan = await scanDeadLetters(sqs, deadLetterUrl, { max: DOCTOR_DLQ_SCAN });
  } catch (error) {
    if (error instanceof DeadLetterScanRefused) {
      const { depth } = await queueDepth(sqs, deadLetterUrl);
      return { name, status: 'warn', detail: `${deadLetterUrl}: ${depth} waiting; reasons not read: ${error.message}` };
    }
    // The queue exists (it was resolved); reading its messages needs rights doctor may lack.
    return {
      name,
      status: 'warn',
      detail: `${deadLetterUrl}: could not read its messages: ${message(error)}`,
      fix: 'counting the reasons needs sqs:GetQueueAttributes, sqs:ReceiveMessage and sqs:ChangeMessageVisibility on the dead-letter queue',
    };
  }
  if (scan.depth === 0 && scan.entries.length === 0) return { name, status: 'ok', detail: `${deadLetterUrl} (empty)` };
  const reasons = countByReason(scan.entries)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const depth = Math.max(scan.depth, scan.entries.length);
  const of = scan.entries.length < depth ? ` (reasons of the first ${scan.entries.length}: ${reasons})` : ` (${reasons})`;
  return { name, status: 'warn', detail: `${deadLetterUrl}: ${depth} message(s) waiting${scan.entries.length > 0 ? of : ''}`, fix };
}

export async function runDoctor(load: () => Settings, out: NodeJS.WritableStream): Promise<number> {
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    out.write(`${MARK[check.status]} ${check.name.padEnd(18)} ${check.detail}\n${check.fix ? `  fix: ${check.fix}\n` : ''}`);
  };

  let settings: Settings;
  try {
    settings = load();
    report({ name: 'settings', status: 'ok', detail: 'valid' });
  } catch (error) {
    report({ name: 'settings', status: 'fail', detail: error instanceof ConfigError ? error.message : message(error), fix: 'correct the named setting (environment variable or --config file)' });
    // A bad setting is a configuration error, exit 2 as in every other command; the checks below need settings.
    return ExitCode.usage;
  }

  const sqs = createSqsClient(settings.aws);
  let awsReady = false;
  try {
    const region = await sqs.config.region();
    await sqs.config.credentials();
    report({ name: 'aws', status: 'ok', detail: `region ${region}, credentials found${settings.aws.endpoint ? `, endpoint ${settings.aws.endpoint}` : ''}` });
    awsReady = true;
  } catch (error) {
    report({
      name: 'aws',
      status: 'fail',
      detail: message(error),
      fix: 'set AWS_REGION, and credentials through the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or IRSA on EKS',
    });
  }

  let queueArn: string | undefined;
  if (!awsReady) {
    report({ name: 'queue', status: 'skip', detail: 'needs AWS access' });
  } else if (settings.sqs.queueUrl === '') {
    report({ name: 'queue', status: 'fail', detail: 'SQS_QUEUE_URL is not set', fix: 'run `keda-indexer bootstrap` and export the SQS_QUEUE_URL it prints' });
  } else {
    try {
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: settings.sqs.queueUrl, AttributeNames: ['QueueArn', 'VisibilityTimeout', 'RedrivePolicy', 'ApproximateNumberOfMessages'] }),
      );
      queueArn = attributes.Attributes?.QueueArn;
      report({ name: 'queue', status: 'ok', detail: `${settings.sqs.queueUrl} (${attributes.Attributes?.ApproximateNumberOfMessages ?? '?'} waiting)` });
      try {
        const deadLetterUrl = await new SqsQueue(sqs, settings.sqs.queueUrl, settings.sqs.deadLetterQueueUrl).deadLetterQueueUrl();
        report(await deadLetterCheck(sqs, deadLetterUrl));
      } catch (error) {
        report({ name: 'dead-letter queue', status: 'fail', detail: message(error), fix: 'run `keda-indexer bootstrap` (adds a redrive policy), or set SQS_DEAD_LETTER_QUEUE_URL' });
      }
    } catch (error) {
      report({ name: 'queue', status: 'fail', detail: message(error), fix: 'check SQS_QUEUE_URL, AWS_REGION and that the credentials may sqs:GetQueueAttributes' });
    }
  }

  if (!awsReady || settings.s3.bucket === '') {
    report({ name: 'bucket', status: 'skip', detail: settings.s3.bucket === '' ? 'S3_BUCKET not set (only upload and bootstrap need it)' : 'needs AWS access' });
  } else {
    const s3 = createS3Client(settings.aws);
    try {
      await s3.send(new HeadBucketCommand({ Bucket: settings.s3.bucket }));
      if (queueArn === undefined) {
        report({ name: 'bucket', status: 'ok', detail: `s3://${settings.s3.bucket} (its notification not checked: the queue is not known)` });
      } else {
        const target = (await notificationTargets(s3, settings.s3.bucket)).find((config) => config.QueueArn === queueArn);
        // Without the notification, files put in the bucket never reach this queue: the pipeline
        // looks healthy and indexes nothing new. That is a failure, not a warning.
        report(
          target !== undefined
            ? { name: 'bucket', status: 'ok', detail: `s3://${settings.s3.bucket}, notifies the queue (configuration "${target.Id ?? ''}")` }
            : {
                name: 'bucket',
                status: 'fail',
                detail: `s3://${settings.s3.bucket} does not notify the queue: files put in the bucket are not indexed (only those sent by \`keda-indexer upload\` or backfill)`,
                fix: 'run `keda-indexer bootstrap` with this SQS_QUEUE_URL, S3_BUCKET and S3_PREFIX to add its notification; for a queue filled by backfill only (a reindex queue), run doctor without S3_BUCKET',
              },
        );
      }
    } catch (error) {
      report({ name: 'bucket', status: 'fail', detail: message(error), fix: 'check S3_BUCKET, or create it with `keda-indexer bootstrap`' });
    }
  }

  let embedder: Embedder | undefined;
  try {
    const started = performance.now();
    embedder = await loadEmbedder(settings, silentLogger());
    report({
      name: 'model',
      status: 'ok',
      detail: `${embedder.model}: ${embedder.dimensions} dims on ${embedder.device}, loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    });
  } catch (error) {
    report({ name: 'model', status: 'fail', detail: error instanceof Error ? error.message : String(error) });
  }

  let store;
  try {
    ({ store } = buildRuntime(settings));
  } catch (error) {
    report({ name: 'store', status: 'fail', detail: error instanceof Error ? error.message : String(error) });
  }
  if (store !== undefined) {
    try {
      for (const check of await store.checks(embedder === undefined ? undefined : modelRecordOf(embedder, embedder.dimensions))) report(check);
    } finally {
      await store.close();
    }
  }
  await embedder?.dispose();

  const failed = checks.filter((check) => check.status === 'fail').length;
  out.write(failed === 0 ? '\nAll checks passed.\n' : `\n${failed} check(s) failed.\n`);
  return failed === 0 ? ExitCode.ok : ExitCode.failure;
}
