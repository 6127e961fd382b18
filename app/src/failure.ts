// How a failure ends for the message that caused it. Every stage throws one of these two kinds
// (or lets an unknown error through, which counts as transient: retrying is the safe default
// when nothing says the input itself is at fault).

/** The input itself is at fault: the message is dead-lettered with `reason` and deleted. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    readonly reason: string,
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

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}
