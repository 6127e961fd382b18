// `keda-indexer dlq list [--reason R] [--max N] [--json]`: the files waiting in the dead-letter
// queue, with the reason and time each failed, read without consuming them (source/dead-letters.ts).
import { createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import type { DeadLetterReason } from '../failure.js';
import { countByReason, DeadLetterScanRefused, scanDeadLetters, type DeadLetterEntry } from '../source/dead-letters.js';
import { SqsQueue } from '../source/sqs.js';
import { printable } from '../terminal-safe.js';
import { ExitCode, requireSetting, UserError } from './common.js';

export interface DlqListOptions {
  readonly reason?: DeadLetterReason;
  /** Most messages read from the dead-letter queue. */
  readonly max: number;
  readonly json: boolean;
}

export const DLQ_LIST_DEFAULT_MAX = 1000;

function fileOf(entry: DeadLetterEntry): string {
  const [first, ...rest] = entry.files;
  if (first === undefined) return '(no file: the body is not a message the worker reads)';
  return `s3://${printable(first.bucket)}/${printable(first.key)}${rest.length > 0 ? ` (+${rest.length} more in the message)` : ''}`;
}

export async function runDlqList(settings: Settings, options: DlqListOptions, out: NodeJS.WritableStream): Promise<number> {
  const queueUrl = requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it to the queue whose dead-letter queue to list.');
  const sqs = createSqsClient(settings.aws);
  const deadLetterUrl = await new SqsQueue(sqs, queueUrl, settings.sqs.deadLetterQueueUrl).deadLetterQueueUrl();
  // Ctrl-C ends the scan early; the messages read so far are still made visible again.
  const stop = new AbortController();
  const onSignal = () => {
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  let scan;
  try {
    scan = await scanDeadLetters(sqs, deadLetterUrl, { max: options.max, signal: stop.signal });
  } catch (error) {
    if (error instanceof DeadLetterScanRefused) throw new UserError(error.message);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
  const listed = options.reason === undefined ? scan.entries : scan.entries.filter((entry) => entry.reason === options.reason);
  const notRead = scan.capped ? Math.max(0, scan.depth - scan.entries.length) : 0;
  if (options.json) {
    out.write(
      `${JSON.stringify(
        {
          dead_letter_queue: deadLetterUrl,
          approximate_depth: scan.depth,
          read: scan.entries.length,
          not_read: notRead,
          held_by_other_readers: scan.held,
          by_reason: Object.fromEntries(countByReason(scan.entries)),
          messages: listed.map((entry) => ({
            message_id: entry.messageId,
            reason: entry.reason ?? null,
            error: entry.error ?? null,
            failed_at: entry.failedAt ?? null,
            files: entry.files,
            receive_count: entry.receiveCount ?? null,
          })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    if (listed.length > 0) {
      out.write(`${'failed at'.padEnd(24)}  ${'reason'.padEnd(17)}  file\n`);
      for (const entry of listed) {
        out.write(`${(entry.failedAt ?? '?').padEnd(24)}  ${(entry.reason ?? '(none)').padEnd(17)}  ${fileOf(entry)}\n`);
      }
      out.write('\n');
    }
    const byReason = countByReason(scan.entries)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ');
    out.write(
      `${scan.entries.length} message(s) read from ${deadLetterUrl}${byReason === '' ? '' : ` (${byReason})`}` +
        `${options.reason === undefined ? '' : `; ${listed.length} with reason ${options.reason}`}\n`,
    );
    if (notRead > 0) out.write(`${notRead} more not read (--max ${options.max}): raise --max to see them\n`);
    if (scan.held > 0) out.write(`${scan.held} more held by another reader right now (a worker, redrive or another listing): not listed\n`);
    if (scan.entries.some((entry) => entry.reason === undefined)) {
      out.write('(none): moved by SQS after maxReceiveCount receives, not by the worker; usually a long outage (docs/operations.md)\n');
    }
  }
  return ExitCode.ok;
}
