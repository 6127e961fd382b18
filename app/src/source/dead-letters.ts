// Reading the dead-letter queue without consuming it, for `keda-indexer dlq list` and `doctor`.
//
// SQS has no "peek": a message is read by receiving it. Each message is received once and hidden
// while the scan goes on, so a queue of more than ten is seen whole and each message once; when
// the scan ends (or fails) every message is made visible again at once. Receiving raises a
// message's ApproximateReceiveCount, which only matters to a redrive policy on the dead-letter
// queue itself: with one, enough listings would move messages on, so the scan refuses to start.
// The scan is bounded (`max` messages) so it ends on any queue.
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { parseBody } from './message.js';
import { DEAD_LETTER_ATTRIBUTES } from './sqs.js';

export interface DeadLetterFile {
  readonly bucket: string;
  readonly key: string;
}

export interface DeadLetterEntry {
  readonly messageId: string;
  /** The worker's reason; undefined when SQS moved the message itself (maxReceiveCount). */
  readonly reason: string | undefined;
  readonly error: string | undefined;
  /** ISO 8601: the worker's failed-at attribute, else when the message reached the dead-letter queue. */
  readonly failedAt: string | undefined;
  /** The file that failed (attributes), else every file the body names; empty for a malformed body. */
  readonly files: readonly DeadLetterFile[];
  /** Receives on the source queue before it was dead-lettered, as the worker recorded it. */
  readonly receiveCount: number | undefined;
}

export interface DeadLetterScan {
  readonly entries: readonly DeadLetterEntry[];
  /** ApproximateNumberOfMessages (visible) when the scan began. */
  readonly depth: number;
  /** ApproximateNumberOfMessagesNotVisible when the scan began: held by another reader. */
  readonly held: number;
  /** True when the scan stopped at `max`, not at an empty receive. */
  readonly capped: boolean;
}

/** The dead-letter queue has a redrive policy of its own: receiving would move messages on. */
export class DeadLetterScanRefused extends Error {
  override name = 'DeadLetterScanRefused';
}

export interface ScanOptions {
  /** Most messages to read. */
  readonly max: number;
  /** Stops the scan early (what was read is returned, and released). */
  readonly signal?: AbortSignal;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ depth: number; held: number; redrivePolicy: string | undefined }> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'RedrivePolicy'] }),
  );
  const a = attributes.Attributes ?? {};
  return { depth: Number(a.ApproximateNumberOfMessages ?? 0), held: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0), redrivePolicy: a.RedrivePolicy };
}

export async function scanDeadLetters(sqs: SQSClient, deadLetterUrl: string, options: ScanOptions): Promise<DeadLetterScan> {
  const { depth, held, redrivePolicy } = await queueDepth(sqs, deadLetterUrl);
  if (redrivePolicy !== undefined) {
    throw new DeadLetterScanRefused(
      `the dead-letter queue ${deadLetterUrl} has a redrive policy of its own (${redrivePolicy}): reading its messages raises their receive count ` +
        'and could move them on, so they are not listed. Fix: remove that policy (a dead-letter queue needs none).',
    );
  }
  // Hidden long enough for the whole scan (about a receive per second at worst), then released.
  const hideSeconds = Math.min(43_200, 30 + Math.ceil(options.max / 10));
  const handles = new Map<string, string>();
  const entries: DeadLetterEntry[] = [];
  let capped = false;
  try {
    // Bounded by receives as well: messages seen again (hidden too briefly) are not counted twice.
    for (let receives = 0; receives < Math.ceil(options.max / 10) * 2 + 2 && options.signal?.aborted !== true; receives++) {
      if (entries.length >= options.max) {
        capped = true;
        break;
      }
      const response = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterUrl,
          MaxNumberOfMessages: Math.min(10, options.max - entries.length),
          WaitTimeSeconds: 1,
          VisibilityTimeout: hideSeconds,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const messages = response.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        if (message.MessageId === undefined || message.ReceiptHandle === undefined) continue;
        const seen = handles.has(message.MessageId);
        handles.set(message.MessageId, message.ReceiptHandle);
        if (!seen && entries.length < options.max) entries.push(entryOf(message));
      }
    }
  } finally {
    await release(sqs, deadLetterUrl, [...handles.values()]);
  }
  return { entries, depth, held, capped: capped || (entries.length >= options.max && depth > entries.length) };
}

/** Makes the scanned messages visible again at once; any left hidden come back after the scan's timeout. */
async function release(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  for (let first = 0; first < receiptHandles.length; first += 10) {
    const batch = receiptHandles.slice(first, first + 10);
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((receiptHandle, i) => ({ Id: String(i), ReceiptHandle: receiptHandle, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}

function entryOf(message: Message): DeadLetterEntry {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const bucket = attribute(DEAD_LETTER_ATTRIBUTES.bucket);
  const key = attribute(DEAD_LETTER_ATTRIBUTES.key);
  let files: DeadLetterFile[];
  if (bucket !== undefined && key !== undefined) files = [{ bucket, key }];
  else {
    // Dead-lettered before the worker recorded bucket and key, or moved by SQS itself.
    const parsed = parseBody(message.Body ?? '');
    files = parsed.kind === 'files' ? parsed.events.map((event) => ({ bucket: event.bucket, key: event.key })) : [];
  }
  const sent = Number(message.Attributes?.SentTimestamp);
  const receiveCount = attribute(DEAD_LETTER_ATTRIBUTES.receiveCount);
  return {
    messageId: message.MessageId ?? '',
    reason: attribute(DEAD_LETTER_ATTRIBUTES.reason),
    error: attribute(DEAD_LETTER_ATTRIBUTES.error),
    failedAt: attribute(DEAD_LETTER_ATTRIBUTES.failedAt) ?? (Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : undefined),
    files,
    receiveCount: receiveCount === undefined ? undefined : Number(receiveCount),
  };
}

/** Messages per reason, most first; SQS-moved messages (no reason) count as "(none)". */
export function countByReason(entries: readonly DeadLetterEntry[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.reason ?? '(none)', (counts.get(entry.reason ?? '(none)') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
