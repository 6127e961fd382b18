// `keda-indexer redrive [--reason R] [--dry-run]`: sends dead-lettered messages back to the queue
// after a fix — all of them or those with one reason — with their original bodies.
import { ReceiveMessageCommand, SendMessageCommand, DeleteMessageCommand, ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from '../aws.js';
import type { Settings } from '../config/config.js';
import type { DeadLetterReason } from '../failure.js';
import { DEAD_LETTER_ATTRIBUTES, SqsQueue } from '../source/sqs.js';
import { ExitCode, requireSetting } from './common.js';

export interface RedriveOptions {
  readonly reason?: DeadLetterReason;
  readonly dryRun: boolean;
}

export async function runRedrive(settings: Settings, options: RedriveOptions, out: NodeJS.WritableStream): Promise<number> {
  const queueUrl = requireSetting(settings.sqs.queueUrl, 'SQS_QUEUE_URL', 'Set it to the queue the messages go back to.');
  const sqs = createSqsClient(settings.aws);
  const deadLetterUrl = await new SqsQueue(sqs, queueUrl, settings.sqs.deadLetterQueueUrl).deadLetterQueueUrl();
  const moved = new Map<string, number>();
  // Messages not moved stay invisible until the scan ends, so the scan sees each message once.
  const skipped: string[] = [];
  for (;;) {
    const response = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300, MessageAttributeNames: ['All'] }),
    );
    const messages = response.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      const reason = message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue ?? '(none)';
      if (message.ReceiptHandle === undefined) continue;
      if ((options.reason !== undefined && reason !== options.reason) || options.dryRun) {
        skipped.push(message.ReceiptHandle);
        if (options.dryRun && (options.reason === undefined || reason === options.reason)) moved.set(reason, (moved.get(reason) ?? 0) + 1);
        continue;
      }
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: message.Body ?? '' }));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: message.ReceiptHandle }));
      moved.set(reason, (moved.get(reason) ?? 0) + 1);
    }
  }
  for (const receiptHandle of skipped) {
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }));
  }
  const total = [...moved.values()].reduce((sum, n) => sum + n, 0);
  const byReason = [...moved].map(([reason, n]) => `${reason} ${n}`).join(', ');
  out.write(
    `${options.dryRun ? 'would move' : 'moved'} ${total} message(s)${total > 0 ? ` (${byReason})` : ''} from ${deadLetterUrl} to ${queueUrl}; ` +
      `${skipped.length - (options.dryRun ? total : 0)} left in the dead-letter queue\n`,
  );
  return ExitCode.ok;
}
