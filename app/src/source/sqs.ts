// The SQS adapter of the consumer's queue port (consumer/queue.ts): receive, lease (visibility),
// acknowledge (delete), release (visibility back to a delay, for retries) and dead-letter (send to
// the DLQ with the reason, then delete). The SQS client's own retry handles throttling and
// network blips.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetterDetails, MessageQueue, QueueMessage, QueueProblem } from '../consumer/queue.js';

export type { DeadLetterDetails, QueueMessage, QueueProblem } from '../consumer/queue.js';

/** SQS message attribute names written on dead-lettered messages (documented in docs/operations.md). */
export const DEAD_LETTER_ATTRIBUTES = {
  reason: 'keda-indexer.reason',
  error: 'keda-indexer.error',
  sourceQueue: 'keda-indexer.source-queue',
  sourceMessageId: 'keda-indexer.source-message-id',
  receiveCount: 'keda-indexer.receive-count',
  failedAt: 'keda-indexer.failed-at',
  bucket: 'keda-indexer.bucket',
  key: 'keda-indexer.key',
} as const;

const QUEUE_PROBLEMS: Readonly<Record<string, QueueProblem['kind']>> = {
  QueueDoesNotExist: 'queue_missing',
  'AWS.SimpleQueueService.NonExistentQueue': 'queue_missing',
  AccessDenied: 'access_denied',
  AccessDeniedException: 'access_denied',
  KmsAccessDenied: 'access_denied',
  'KMS.AccessDeniedException': 'access_denied',
  InvalidClientTokenId: 'credentials_rejected',
  UnrecognizedClientException: 'credentials_rejected',
  SignatureDoesNotMatch: 'credentials_rejected',
  InvalidSecurity: 'credentials_rejected',
  ExpiredToken: 'credentials_rejected',
};

export function queueProblemOf(error: unknown): QueueProblem | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { Code?: unknown }).Code;
  for (const name of [error.name, typeof code === 'string' ? code : '']) {
    const kind = QUEUE_PROBLEMS[name];
    if (kind !== undefined) return { kind, code: name, detail: error.message };
  }
  return undefined;
}

/** What is wrong with the queue and how to fix it, in one line for the logs and the terminal. */
export function describeQueueProblem(queueUrl: string, problem: QueueProblem): string {
  switch (problem.kind) {
    case 'queue_missing':
      return (
        `queue ${queueUrl} does not exist (${problem.code}). Fix: check SQS_QUEUE_URL and AWS_REGION (or AWS_ENDPOINT_URL), ` +
        'or create the queue with `keda-indexer bootstrap`'
      );
    case 'access_denied':
      return (
        `not allowed to use queue ${queueUrl} (${problem.code}: ${problem.detail}). Fix: give the worker's role (IRSA on EKS) ` +
        'sqs:ReceiveMessage, sqs:DeleteMessage, sqs:ChangeMessageVisibility and sqs:GetQueueAttributes on the queue and sqs:SendMessage on its dead-letter queue ' +
        '(and kms:Decrypt on its key if the queue is encrypted with one)'
      );
    case 'credentials_rejected':
      return (
        `AWS refused the credentials for queue ${queueUrl} (${problem.code}: ${problem.detail}). Fix: check the credentials the default chain finds ` +
        '(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the IRSA role) and AWS_REGION'
      );
  }
}

/** Attribute values are capped at 256 KiB with the body; errors are kept short and single-line. */
function clip(text: string, max = 1000): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export class SqsQueue implements MessageQueue {
  private deadLetterUrl: Promise<string> | undefined;

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
    private readonly configuredDeadLetterUrl: string,
  ) {}

  async receive(maxMessages: number, waitTimeSeconds: number, visibilityTimeout: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    const response = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, maxMessages)),
        WaitTimeSeconds: waitTimeSeconds,
        VisibilityTimeout: visibilityTimeout,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      signal === undefined ? {} : { abortSignal: signal },
    );
    return (response.Messages ?? []).flatMap((message) =>
      message.MessageId !== undefined && message.ReceiptHandle !== undefined
        ? [
            {
              messageId: message.MessageId,
              receiptHandle: message.ReceiptHandle,
              body: message.Body ?? '',
              receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? '1'),
            },
          ]
        : [],
    );
  }

  problemOf(error: unknown): QueueProblem | undefined {
    return queueProblemOf(error);
  }

  describeProblem(problem: QueueProblem): string {
    return describeQueueProblem(this.queueUrl, problem);
  }

  /** Asks SQS about the queue: throws when it is missing or not allowed (see queueProblemOf). */
  async checkAccess(): Promise<void> {
    await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['QueueArn'] }));
  }

  /** Sets the message's remaining invisibility: extends a lease, or releases it after a delay. */
  async setVisibility(message: QueueMessage, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }

  async ack(message: QueueMessage): Promise<void> {
    await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle }));
  }

  /** Sends the original body with the reason to the dead-letter queue, then deletes the message. */
  async deadLetter(message: QueueMessage, details: DeadLetterDetails): Promise<void> {
    const deadLetterUrl = await this.deadLetterQueueUrl();
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: deadLetterUrl,
        // An empty body is not allowed by SQS; keep something that says so.
        MessageBody: message.body === '' ? '(empty body)' : message.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.reason]: text(details.reason),
          [DEAD_LETTER_ATTRIBUTES.error]: text(clip(details.error) || details.reason),
          [DEAD_LETTER_ATTRIBUTES.sourceQueue]: text(this.queueUrl),
          [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: text(message.messageId),
          [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: String(message.receiveCount) },
          [DEAD_LETTER_ATTRIBUTES.failedAt]: text(new Date().toISOString()),
          // The body may hold several records; these name the one that failed.
          ...(details.bucket === undefined || details.key === undefined
            ? {}
            : { [DEAD_LETTER_ATTRIBUTES.bucket]: text(details.bucket), [DEAD_LETTER_ATTRIBUTES.key]: text(details.key) }),
        },
      }),
    );
    await this.ack(message);
  }

  /** SQS_DEAD_LETTER_QUEUE_URL, else the queue its RedrivePolicy names. */
  deadLetterQueueUrl(): Promise<string> {
    this.deadLetterUrl ??= this.resolveDeadLetterUrl().catch((error: unknown) => {
      this.deadLetterUrl = undefined; // retry the lookup next time
      throw error;
    });
    return this.deadLetterUrl;
  }

  private async resolveDeadLetterUrl(): Promise<string> {
    if (this.configuredDeadLetterUrl !== '') return this.configuredDeadLetterUrl;
    const attributes = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['RedrivePolicy'] }));
    const policy = attributes.Attributes?.RedrivePolicy;
    if (policy === undefined) {
      throw new Error(`queue ${this.queueUrl} has no RedrivePolicy and SQS_DEAD_LETTER_QUEUE_URL is not set: nowhere to dead-letter`);
    }
    const arn = (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn ?? '';
    // arn:aws:sqs:<region>:<account>:<name>; SQS requires the DLQ in the queue's own region.
    const [, , , , account, name] = arn.split(':');
    if (account === undefined || name === undefined) throw new Error(`RedrivePolicy has an unreadable deadLetterTargetArn: ${arn}`);
    const found = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }));
    if (found.QueueUrl === undefined) throw new Error(`dead-letter queue ${arn} not found`);
    return found.QueueUrl;
  }
}
