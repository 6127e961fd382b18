// Sends backfill messages in batches of 10 (SQS's SendMessageBatch limit), several batches at a
// time. SendMessageBatch can succeed as a request and still fail some entries; the SDK retries
// failed requests (throttling, 5xx) but not failed entries, so those are retried here with a
// growing delay, and the sender reports which entries landed so the resume key stays safe.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sleep } from './rate-limiter.js';

/** SQS's limit of entries per SendMessageBatch. */
export const BATCH_SIZE = 10;

export interface OutgoingMessage {
  /** Listing position (ResumeTracker): reported back once the message is on the queue. */
  readonly position: number;
  readonly body: string;
}

export interface EntryFailure {
  /** Index of the entry in the batch passed. */
  readonly index: number;
  readonly message: string;
}

/** Sends up to 10 bodies in one request; returns the entries that failed. */
export type SendBatch = (bodies: readonly string[]) => Promise<readonly EntryFailure[]>;

export function sqsSendBatch(sqs: SQSClient, queueUrl: string): SendBatch {
  return async (bodies) => {
    const response = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })) }),
    );
    return (response.Failed ?? []).map((failed) => ({
      index: Number(failed.Id),
      message: `${failed.Code ?? 'error'}: ${failed.Message ?? 'no message'}${failed.SenderFault === true ? ' (sender fault)' : ''}`,
    }));
  };
}

export interface SenderOptions {
  /** Batches on the wire at once. */
  readonly maxInFlight: number;
  /** Tries per entry before the backfill stops. */
  readonly maxAttempts: number;
  /** First retry delay; doubles with each try. */
  readonly retryBaseMs: number;
  /** Called with the messages of a batch that are on the queue. */
  readonly onSent: (messages: readonly OutgoingMessage[]) => void;
}

export class BatchSender {
  private buffer: OutgoingMessage[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private failure: Error | undefined;

  constructor(
    private readonly send: SendBatch,
    private readonly options: SenderOptions,
  ) {}

  /** The first batch that could not be sent, once one failed for good. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Queues a message; a full batch goes out, after waiting for a free slot. Throws once a batch failed. */
  async add(message: OutgoingMessage): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.buffer.push(message);
    if (this.buffer.length >= BATCH_SIZE) await this.dispatch();
  }

  /** Sends what is buffered now, even less than a batch (the rate limit makes the next one wait). */
  async dispatch(): Promise<void> {
    if (this.buffer.length === 0) return;
    while (this.inFlight.size >= this.options.maxInFlight) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    const batch = this.buffer;
    this.buffer = [];
    const sending: Promise<void> = this.sendWithRetries(batch)
      .catch((error: unknown) => {
        this.failure ??= error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Sends the rest and waits for every batch. Throws when one failed. */
  async flush(): Promise<void> {
    await this.dispatch().catch(() => undefined);
    await this.settle();
    if (this.failure !== undefined) throw this.failure;
  }

  /** Waits for the batches already sent, dropping what is buffered (a stop: resume re-lists it). */
  async settle(): Promise<void> {
    this.buffer = [];
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private async sendWithRetries(batch: readonly OutgoingMessage[]): Promise<void> {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      const failures = await this.send(pending.map((message) => message.body));
      const failedIndexes = new Set(failures.map((failure) => failure.index));
      const sent = pending.filter((_, i) => !failedIndexes.has(i));
      if (sent.length > 0) this.options.onSent(sent);
      if (failures.length === 0) return;
      if (attempt >= this.options.maxAttempts) {
        throw new Error(`${failures.length} message(s) not accepted by SQS after ${attempt} tries: ${failures[0]?.message ?? ''}`);
      }
      pending = pending.filter((_, i) => failedIndexes.has(i));
      await sleep(this.options.retryBaseMs * 2 ** (attempt - 1));
    }
  }
}
