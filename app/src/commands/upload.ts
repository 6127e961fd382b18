// `keda-indexer upload <file…>`: puts files into the bucket under S3_PREFIX, and enqueues a
// {"bucket","key"} message for each unless the bucket already notifies the queue (then S3 does).
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import { SUPPORTED_EXTENSIONS } from '../convert/registry.js';
import { notificationEntries, notificationTargets, notifiesCreationOf, queueArnOf } from '../setup/aws-resources.js';
import { ExitCode, requireSetting, UserError } from './common.js';

export interface UploadOptions {
  /** true/false forces; undefined: enqueue only when the bucket has no notification to the queue. */
  readonly enqueue?: boolean;
}

interface Upload {
  readonly file: string;
  readonly key: string;
}

async function collect(inputs: readonly string[], prefix: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  for (const input of inputs) {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new UserError(`${input}: no such file or folder`);
    }
    if (info.isFile()) {
      uploads.push({ file: input, key: prefix + path.basename(input) });
      continue;
    }
    const walk = async (folder: string): Promise<void> => {
      for (const entry of await readdir(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (entry.isDirectory() && !entry.name.startsWith('.')) await walk(full);
        else if (entry.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) {
          // Keys use '/' whatever the local separator.
          uploads.push({ file: full, key: prefix + path.relative(input, full).split(path.sep).join('/') });
        }
      }
    };
    await walk(input);
  }
  return uploads;
}

export async function runUpload(settings: Settings, inputs: readonly string[], options: UploadOptions, out: NodeJS.WritableStream): Promise<number> {
  const bucket = requireSetting(settings.s3.bucket, 'S3_BUCKET', 'Set it to the bucket to upload to (see `keda-indexer bootstrap`).');
  const s3 = createS3Client(settings.aws);
  const sqs = createSqsClient(settings.aws);
  const uploads = await collect(inputs, settings.s3.prefix);
  if (uploads.length === 0) throw new UserError(`nothing to upload (supported: ${SUPPORTED_EXTENSIONS.join(' ')})`, ExitCode.usage);

  let enqueue = options.enqueue;
  /** The notification configurations that announce the uploads, when S3 does it. */
  let notified: string | undefined;
  if (enqueue === undefined) {
    const queueUrl = requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it, or pass --no-enqueue if the bucket notifies the queue.');
    const queueArn = await queueArnOf(sqs, queueUrl);
    // Left to S3 only when every key uploaded is announced to this queue: a configuration for it
    // whose events include the object's creation and whose prefix and suffix filters take the key.
    const toQueue = notificationEntries({ QueueConfigurations: await notificationTargets(s3, bucket) }).filter((entry) => entry.destination === queueArn);
    const announced = uploads.filter((upload) => toQueue.some((entry) => notifiesCreationOf(entry, upload.key)));
    enqueue = announced.length < uploads.length;
    notified = enqueue ? undefined : toQueue.map((entry) => entry.id).join(', ');
  }
  if (enqueue) requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it to the queue to enqueue to.');

  for (const upload of uploads) {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: upload.key, Body: await readFile(upload.file) }));
    out.write(`uploaded  ${upload.file} → s3://${bucket}/${upload.key}\n`);
  }
  if (enqueue) {
    for (let i = 0; i < uploads.length; i += 10) {
      const batch = uploads.slice(i, i + 10);
      const response = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: settings.sqs.queueUrl,
          Entries: batch.map((upload, j) => ({ Id: String(j), MessageBody: JSON.stringify({ bucket, key: upload.key }) })),
        }),
      );
      if ((response.Failed ?? []).length > 0) {
        throw new Error(`enqueue failed for ${String(response.Failed?.length)} file(s): ${response.Failed?.[0]?.Message ?? 'unknown error'}`);
      }
    }
    out.write(`enqueued  ${uploads.length} message(s) on ${settings.sqs.queueUrl}\n`);
  } else {
    out.write(
      notified === undefined
        ? 'not enqueued (--no-enqueue)\n'
        : `not enqueued: the bucket's notification (${notified}) announces every uploaded key's creation on ${settings.sqs.queueUrl}\n`,
    );
  }
  return ExitCode.ok;
}
