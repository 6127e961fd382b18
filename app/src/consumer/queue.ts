// The queue port: what the consumer needs from a message queue. The SQS adapter
// (source/sqs.ts) implements it; the consumer's unit tests use an in-memory one.
import type { DeadLetterReason } from '../failure.js';

export interface QueueMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** How many times the queue has handed this message out, this time included. */
  readonly receiveCount: number;
}

export interface DeadLetterDetails {
  /** Short machine-readable cause: missing_object, unsupported_type, malformed_message… */
  readonly reason: DeadLetterReason;
  /** Human-readable error. */
  readonly error: string;
  /** The file the failure was about, when the body named one (not for a malformed body). */
  readonly bucket?: string;
  readonly key?: string;
}

/**
 * Why the queue itself cannot be used: no retry fixes these until a person does. Everything else
 * (network, throttling, 5xx) is worth retrying.
 */
export interface QueueProblem {
  readonly kind: 'queue_missing' | 'access_denied' | 'credentials_rejected';
  /** The error code the queue service answered with. */
  readonly code: string;
  readonly detail: string;
}

export interface MessageQueue {
  /** Where the queue is, for log lines. */
  readonly queueUrl: string;
  /**
   * Waits up to `waitTimeSeconds` for at most `maxMessages`, each leased (invisible to other
   * consumers) for `visibilityTimeoutSeconds`. `signal` cuts the wait.
   */
  receive(maxMessages: number, waitTimeSeconds: number, visibilityTimeoutSeconds: number, signal?: AbortSignal): Promise<QueueMessage[]>;
  /** Sets the message's remaining invisibility: extends a lease, or releases it after a delay (0: now). */
  setVisibility(message: QueueMessage, seconds: number): Promise<void>;
  /** Deletes the message: it is done. */
  ack(message: QueueMessage): Promise<void>;
  /** Keeps the message with its reason where a person can look at it, then deletes it. */
  deadLetter(message: QueueMessage, details: DeadLetterDetails): Promise<void>;
  /** The problem a receive error shows, when it is one a person must fix; undefined for a blip. */
  problemOf(error: unknown): QueueProblem | undefined;
  /** What is wrong and how to fix it, in one line. */
  describeProblem(problem: QueueProblem): string;
}
