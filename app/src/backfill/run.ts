// One backfill: list → filter → rate limit → send, keeping count and the safe resume key. Takes
// the listing and the batch sender as arguments, so the whole loop (stops, failures, the resume
// key with batches finishing out of order) is tested without S3 or SQS.
import { requestBody } from '../source/message.js';
import { skipReasonOf, type ObjectFilter, type SkipReason } from './filter.js';
import type { ListedObject } from './lister.js';
import { sleep, TokenBucket } from './rate-limiter.js';
import { ResumeTracker } from './resume.js';
import { BatchSender, type SendBatch } from './sender.js';
import type { BackfillTarget } from './target.js';

export interface BackfillPlan {
  readonly target: BackfillTarget;
  readonly filter: ObjectFilter;
  readonly startAfter?: string;
  /** Count what would be enqueued; send nothing. */
  readonly dryRun: boolean;
  /** Messages per second, at most; undefined: as fast as SQS takes them. */
  readonly maxRate?: number;
  /** Ask the worker to index each object even when it is unchanged. */
  readonly force: boolean;
  /** SendMessageBatch requests on the wire at once. */
  readonly maxInFlight: number;
  /** Tries per message before the backfill stops. */
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
}

export interface BackfillCounts {
  listed: number;
  listedBytes: number;
  /** Sent (or, in a dry run, that would be sent). */
  enqueued: number;
  enqueuedBytes: number;
  skipped: Record<SkipReason, number>;
}

export interface BackfillResult {
  /** done: every listed object settled; stopped: by the signal; failed: listing or sending failed. */
  readonly status: 'done' | 'stopped' | 'failed';
  readonly error?: Error;
  readonly counts: BackfillCounts;
  /** Pass as --start-after to go on; undefined: start from the beginning of the prefix. */
  readonly resumeAfter?: string;
}

export function emptyCounts(): BackfillCounts {
  return { listed: 0, listedBytes: 0, enqueued: 0, enqueuedBytes: 0, skipped: { folder: 0, suffix: 0, modified_before: 0, too_large: 0 } };
}

/** Waits longer than this for the rate limit send a partial batch first, so nothing sits buffered. */
const LINGER_MS = 200;

export async function runBackfillPlan(
  objects: AsyncIterable<ListedObject>,
  send: SendBatch,
  plan: BackfillPlan,
  signal: AbortSignal,
  onProgress: (counts: Readonly<BackfillCounts>) => void = () => undefined,
): Promise<BackfillResult> {
  const counts = emptyCounts();
  const tracker = new ResumeTracker(plan.startAfter);
  const sizes = new Map<number, number>();
  const sender = new BatchSender(send, {
    maxInFlight: plan.maxInFlight,
    maxAttempts: plan.maxAttempts,
    retryBaseMs: plan.retryBaseMs,
    onSent: (messages) => {
      for (const message of messages) {
        counts.enqueued++;
        counts.enqueuedBytes += sizes.get(message.position) ?? 0;
        sizes.delete(message.position);
        tracker.settled(message.position);
      }
      onProgress(counts);
    },
  });
  const limiter = plan.maxRate === undefined || plan.dryRun ? undefined : new TokenBucket(plan.maxRate);
  const result = (status: BackfillResult['status'], error?: Error): BackfillResult => ({
    status,
    counts,
    ...(error === undefined ? {} : { error }),
    ...(tracker.resumeAfter === undefined ? {} : { resumeAfter: tracker.resumeAfter }),
  });

  // A function, not the property: it changes across awaits, which narrowing must not assume away.
  const stopped = () => signal.aborted;
  try {
    for await (const object of objects) {
      if (stopped()) break;
      const position = tracker.listed(object.key);
      counts.listed++;
      counts.listedBytes += object.size;
      const skip = skipReasonOf(object, plan.filter);
      if (skip !== undefined || plan.dryRun) {
        if (skip === undefined) {
          counts.enqueued++;
          counts.enqueuedBytes += object.size;
        } else {
          counts.skipped[skip]++;
        }
        tracker.settled(position);
        onProgress(counts);
        continue;
      }
      if (limiter !== undefined) {
        const wait = limiter.reserve();
        if (wait > LINGER_MS) await sender.dispatch();
        await sleep(wait, signal);
        if (stopped()) break;
      }
      sizes.set(position, object.size);
      await sender.add({
        position,
        body: requestBody(plan.target.bucket, object.key, {
          // Unquoted, as S3 event notifications carry it.
          ...(object.etag === undefined ? {} : { etag: object.etag.replace(/^"|"$/g, '') }),
          size: object.size,
          origin: 'backfill',
          ...(plan.force ? { force: true } : {}),
        }),
      });
      onProgress(counts);
    }
  } catch (error) {
    // Listing failed, or a batch did: what was sent stays sent, and the resume key says where to go on.
    await sender.settle();
    return result('failed', sender.failed ?? (error instanceof Error ? error : new Error(String(error))));
  }
  if (stopped()) {
    await sender.settle();
    return result(sender.failed === undefined ? 'stopped' : 'failed', sender.failed);
  }
  try {
    await sender.flush();
  } catch (error) {
    return result('failed', error instanceof Error ? error : new Error(String(error)));
  }
  return result('done');
}
