// How a failure ends for the message that caused it. Every stage throws one of these two kinds
// (or lets an unknown error through, which counts as transient: retrying is the safe default
// when nothing says the input itself is at fault).

/**
 * Every reason the worker dead-letters a message with, in one place: the worker writes them,
 * `redrive --reason` and `dlq list --reason` accept only these, and docs/operations.md ("The
 * dead-letter message") has a row for each (app/src/failure.test.ts holds the two together).
 */
export const DEAD_LETTER_REASONS = [
  'malformed_message',
  'forbidden_bucket',
  'missing_object',
  'missing_bucket',
  'object_archived',
  'too_large',
  'unsupported_type',
  'legacy_format',
  'corrupt',
  'encrypted',
  'encoding',
  'no_text',
  'too_many_pages',
  'timeout',
  'index_rejected',
  'metadata_conflict',
] as const;

export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export function isDeadLetterReason(value: string): value is DeadLetterReason {
  return (DEAD_LETTER_REASONS as readonly string[]).includes(value);
}

/** The input itself is at fault: the message is dead-lettered with `reason` and deleted. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    readonly reason: DeadLetterReason,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A dependency failed (network, throttling, outage): the message is released and retried later. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A service refused the worker's credentials (S3 AccessDenied, Elasticsearch 401/403). Transient
 * on purpose: it is almost always the role or the key that is wrong, not the file, and the same
 * refusal would dead-letter every message of the queue until someone fixed it. Retried instead,
 * with an error-level log line that names the fix and a count in files_retried_total, the
 * messages wait for the fix (or for the queue's maxReceiveCount).
 */
export class AuthorizationError extends TransientError {
  override name = 'AuthorizationError';
  constructor(
    reason: string,
    message: string,
    /** What to grant, and to whom. */
    readonly fix: string,
    options?: ErrorOptions,
  ) {
    super(reason, message, options);
  }
}

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}
