// What the consumer asks of the business logic: a handler takes one message and answers how the
// message ends. The consumer does the queue calls; the handler never touches the queue.
import type { Logger } from '../observe/logger.js';
import type { DeadLetterDetails, QueueMessage } from './queue.js';

export type Verdict =
  /** Done: the message is deleted. */
  | { readonly kind: 'ack' }
  /** The input itself is at fault: kept with its reason in the dead-letter queue, then deleted. */
  | { readonly kind: 'deadLetter'; readonly details: DeadLetterDetails; readonly log?: Logger }
  /**
   * A dependency failed: the message is released after a delay that grows with its receive
   * count. `error.reason` (a string, when it has one) labels the retry on its log line and metric.
   */
  | { readonly kind: 'retry'; readonly error: unknown; readonly log?: Logger };
// `log`, when given, is the logger the consumer reports the outcome on (the handler's own
// context: which file failed); by default the message's.

export interface MessageContext {
  /** The message's logger (messageId, receiveCount on every line). */
  readonly log: Logger;
}

/** Throwing counts as a `retry` verdict: nothing said the input is at fault. */
export type MessageHandler = (message: QueueMessage, context: MessageContext) => Promise<Verdict>;

export const ACK: Verdict = { kind: 'ack' };
