// `keda-indexer backfill s3://bucket/prefix`: enqueues a {"bucket","key"} message for every
// existing object under the prefix, so a bucket that held documents before the worker was
// installed gets indexed. The loop lives in backfill/; this file turns flags into a plan, wires
// S3 and SQS, handles SIGINT/SIGTERM, and prints progress, the summary and the resume key.
import { createS3Client, createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import { SUPPORTED_EXTENSIONS } from '../convert/registry.js';
import { formatBytes } from '../backfill/filter.js';
import { listObjects } from '../backfill/lister.js';
import { BackfillProgress, skippedTotal } from '../backfill/progress.js';
import { runBackfillPlan, type BackfillPlan, type BackfillResult } from '../backfill/run.js';
import { sqsSendBatch, type SendBatch } from '../backfill/sender.js';
import { parseS3Url } from '../backfill/target.js';
import { ExitCode, requireSetting, UserError } from './common.js';

/** Exit codes of `backfill` beyond the common ones: 128 + the signal's number, as shells report it. */
export const BackfillExit = { ...ExitCode, interrupted: 130, terminated: 143 } as const;

export interface BackfillFlags {
  readonly suffix: readonly string[];
  /** Parsed by the CLI (commands/flags.ts), like the numbers below. */
  readonly modifiedSince?: Date;
  readonly maxSize?: number;
  readonly dryRun: boolean;
  readonly startAfter?: string;
  readonly maxRate?: number;
  readonly force: boolean;
  readonly json: boolean;
}

export interface BackfillIo {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
}

const usage = (message: string) => new UserError(message, ExitCode.usage);

function planOf(url: string, flags: BackfillFlags): BackfillPlan {
  const target = parseS3Url(url);
  if (typeof target === 'string') throw usage(`${target}. Example: keda-indexer backfill s3://docs/reports/`);
  const { modifiedSince, maxSize, maxRate } = flags;
  if (flags.startAfter === '') throw usage('--start-after needs a key; leave it out to start at the beginning of the prefix');
  return {
    target,
    filter: {
      suffixes: flags.suffix.length > 0 ? flags.suffix : SUPPORTED_EXTENSIONS,
      ...(modifiedSince === undefined ? {} : { modifiedSince }),
      ...(maxSize === undefined ? {} : { maxSize }),
    },
    ...(flags.startAfter === undefined ? {} : { startAfter: flags.startAfter }),
    dryRun: flags.dryRun,
    ...(maxRate === undefined ? {} : { maxRate }),
    force: flags.force,
    maxInFlight: 4,
    maxAttempts: 5,
    retryBaseMs: 500,
  };
}

/** A word for a POSIX shell: single-quoted unless plainly safe. */
function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A clear line for the errors people meet first; others keep the SDK's words. */
function describeError(error: Error, bucket: string): string {
  if (error.name === 'NoSuchBucket') return `bucket "${bucket}" does not exist (check the s3:// URL and AWS_REGION)`;
  if (error.name === 'AccessDenied') return `access denied listing s3://${bucket}: the credentials need s3:ListBucket on it (and sqs:SendMessage on the queue)`;
  if (error.name === 'AWS.SimpleQueueService.NonExistentQueue' || error.name === 'QueueDoesNotExist') {
    return 'the queue in SQS_QUEUE_URL does not exist (run `keda-indexer bootstrap`, or fix SQS_QUEUE_URL)';
  }
  return `${error.name}: ${error.message}`;
}

function summaryOf(url: string, queueUrl: string, plan: BackfillPlan, result: BackfillResult, seconds: number) {
  const { counts } = result;
  return {
    source: url,
    queue: plan.dryRun ? null : queueUrl,
    dryRun: plan.dryRun,
    status: result.status,
    listed: counts.listed,
    listedBytes: counts.listedBytes,
    enqueued: counts.enqueued,
    enqueuedBytes: counts.enqueuedBytes,
    skipped: skippedTotal(counts),
    skippedBy: counts.skipped,
    seconds: Math.round(seconds * 10) / 10,
    resumeAfter: result.status === 'done' ? null : (result.resumeAfter ?? null),
    ...(result.error === undefined ? {} : { error: describeError(result.error, plan.target.bucket) }),
  };
}

export async function runBackfill(settings: Settings, url: string, flags: BackfillFlags, io: BackfillIo): Promise<number> {
  const plan = planOf(url, flags);
  const queueUrl = plan.dryRun ? '' : requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it to the queue the worker consumes, or pass --dry-run.');
  const s3 = createS3Client(settings.aws);
  const send: SendBatch = plan.dryRun
    ? () => Promise.reject(new Error('a dry run sends nothing'))
    : sqsSendBatch(createSqsClient(settings.aws), queueUrl);

  const stop = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    stoppedBy ??= signal;
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const started = performance.now();
  const progress = new BackfillProgress(io.err, plan.dryRun);
  let result: BackfillResult;
  try {
    const objects = listObjects(s3, plan.target, plan.startAfter === undefined ? {} : { startAfter: plan.startAfter });
    result = await runBackfillPlan(objects, send, plan, stop.signal, (counts) => {
      progress.update(counts);
    });
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    s3.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = summaryOf(url, queueUrl, plan, result, seconds);

  if (flags.json) {
    io.out.write(`${JSON.stringify(summary)}\n`);
  } else {
    const { counts } = result;
    const skippedBy = Object.entries(counts.skipped)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    io.out.write(
      `${plan.dryRun ? 'dry run: would enqueue' : 'enqueued'} ${counts.enqueued} of ${counts.listed} object(s) listed under ${url} ` +
        `(${formatBytes(counts.enqueuedBytes)} of ${formatBytes(counts.listedBytes)}); skipped ${summary.skipped}${skippedBy === '' ? '' : ` (${skippedBy})`}; ` +
        `${seconds.toFixed(1)} s${plan.dryRun ? '' : ` → ${queueUrl}`}\n`,
    );
  }
  if (result.status === 'done') return ExitCode.ok;

  const why = result.status === 'failed' ? `failed: ${summary.error ?? 'unknown error'}` : `stopped by ${stoppedBy ?? 'a signal'}`;
  // Without a resume key nothing was enqueued (and no --start-after was given): start over.
  const resume =
    result.resumeAfter === undefined
      ? 'nothing was enqueued yet; run the same command again'
      : `resume with the same options and --start-after ${shellQuote(result.resumeAfter)}`;
  io.err.write(`keda-indexer backfill: ${why}\n`);
  io.err.write(`keda-indexer backfill: ${resume}\n`);
  if (result.resumeAfter !== undefined) io.err.write(`resume-after: ${result.resumeAfter}\n`);
  if (result.status === 'failed') return ExitCode.failure;
  return stoppedBy === 'SIGTERM' ? BackfillExit.terminated : BackfillExit.interrupted;
}
