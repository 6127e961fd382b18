// The generic queue consumer: receives messages while earlier ones are still being handled (up
// to `concurrency` in flight), holds a lease on each with a visibility heartbeat, runs the handler,
// and ends every message in exactly one of three ways, as the handler's verdict says:
// acknowledged, dead-lettered with a reason, or released for a retry with a growing delay. It
// owns stop, the drain deadline and what is handed back then; it knows nothing of what a message
// means. It uses the global timers (not timers/promises) so node:test's mock timers drive it.
import type { Settings } from '../config/config.js';
import { AuthorizationError } from '../failure.js';
import type { Logger } from '../observe/logger.js';
import type { WorkerMetrics } from '../observe/metrics.js';
import type { MessageHandler, Verdict } from './handler.js';
import type { MessageQueue, QueueMessage, QueueProblem } from './queue.js';

export interface ConsumerOptions {
  /** Messages handled at once; receives ask for no more than the free slots. */
  readonly concurrency: number;
  /** Long poll of each receive, seconds. A stop lets a poll already waiting return (see stop()). */
  readonly waitTimeSeconds: number;
  /** The lease on a received message, seconds; the heartbeat renews it every third of that (at least 1 s). */
  readonly visibilityTimeoutSeconds: number;
  /** After stop(), how long work in flight may go on before its messages are handed back. */
  readonly drainDeadlineSeconds: number;
  /** A retried message waits retryBase × 2^(receives − 1) seconds, at most retryMax, ±20 % jitter. */
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  /** The jitter's source, in [0, 1); Math.random by default. */
  readonly random?: () => number;
}

export function consumerOptionsFrom(settings: Pick<Settings, 'sqs' | 'worker'>): ConsumerOptions {
  const { sqs, worker } = settings;
  return {
    concurrency: worker.concurrency,
    waitTimeSeconds: sqs.waitTimeSeconds,
    visibilityTimeoutSeconds: sqs.visibilityTimeoutSeconds,
    drainDeadlineSeconds: worker.drainDeadlineSeconds,
    retryBaseSeconds: sqs.retryBaseSeconds,
    retryMaxSeconds: sqs.retryMaxSeconds,
  };
}

export type ConsumerMetrics = Pick<WorkerMetrics, 'messagesReceived' | 'inFlight' | 'receiveFailures' | 'deadLettered' | 'filesRetried'>;

export interface RunOptions {
  /** Return once a receive comes back empty with nothing in flight. */
  readonly drain: boolean;
}

interface InFlight {
  readonly message: QueueMessage;
  /** Set when the stop deadline passed and the message was handed back: never settle it after. */
  abandoned: boolean;
  /** Set once the release of an abandoned message has been answered (or failed): the run may end. */
  handedBack: boolean;
  /** The lease extension in flight, if any: a release must land after it, or it re-hides the message. */
  extending: Promise<void> | undefined;
}

/** At most one log line per this long while the queue stays missing or forbidden. */
export const QUEUE_PROBLEM_LOG_MS = 60_000;

/** Receive retries wait 500 ms × 2^failures, at most this long. */
const MAX_RECEIVE_BACKOFF_MS = 30_000;

/** Resolves after `ms`, or at once when `signal` aborts; removes its abort listener either way. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A retry's label: the error's own `reason` (TransientError and kin) when it has one. */
function retryReasonOf(error: unknown): string {
  return error instanceof Error && 'reason' in error && typeof error.reason === 'string' ? error.reason : 'unexpected_error';
}

export class Consumer {
  private readonly inFlight = new Set<InFlight>();
  /** Aborted by stop(): ends waits for a slot and retry sleeps. */
  private readonly stopController = new AbortController();
  /** Aborted only at the stop deadline: cuts a receive that is still waiting. */
  private readonly receiveController = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private slotFreed: (() => void) | undefined;
  private settledListener: (() => void) | undefined;
  private crashed = false;
  /** Set while receives fail because the queue is missing or not allowed; failures since the last log line. */
  private queueProblem: { problem: QueueProblem; loggedAt: number; failures: number } | undefined;
  private readonly random: () => number;

  constructor(
    private readonly queue: MessageQueue,
    private readonly handler: MessageHandler,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
    private readonly metrics: ConsumerMetrics,
  ) {
    this.random = options.random ?? Math.random;
  }

  /** Liveness: false once the receive loop died of an unexpected error. */
  live(): boolean {
    return !this.crashed;
  }

  /** Readiness: false while the queue is missing or not allowed (the receive loop keeps trying). */
  queueUsable(): boolean {
    return this.queueProblem === undefined;
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  isStopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /** Messages received and not yet settled or handed back. */
  inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Begins a graceful stop: no new receives; a receive already waiting is allowed to return (an
   * aborted long poll can leave messages handed out but never delivered, invisible to everyone
   * until their timeout: cut on moto, the server went on polling for the rest of the wait and hid
   * the messages sent meanwhile), and what it returns is released at once. Work in flight gets
   * until the drain deadline, counted from now; whatever is unfinished then is released to other
   * consumers, and a poll still waiting is cut.
   */
  stop(): void {
    if (this.isStopping()) return;
    this.logger.info({ inFlight: this.inFlight.size }, 'stopping: no more receives, finishing work in flight');
    this.stopController.abort();
    this.deadlineTimer = setTimeout(() => {
      this.receiveController.abort();
      void this.abandonUnfinished();
    }, this.options.drainDeadlineSeconds * 1000);
  }

  /** Receives and handles messages until stop() (or, with `drain`, an empty queue); then waits for work in flight. */
  async run(options: RunOptions): Promise<void> {
    const { concurrency, waitTimeSeconds, visibilityTimeoutSeconds } = this.options;
    let receiveFailures = 0;
    try {
      while (!this.isStopping()) {
        await this.waitForSlot();
        if (this.isStopping()) break;
        let messages: QueueMessage[];
        try {
          messages = await this.queue.receive(concurrency - this.inFlight.size, waitTimeSeconds, visibilityTimeoutSeconds, this.receiveController.signal);
          receiveFailures = 0;
        } catch (error) {
          if (this.isStopping()) break;
          receiveFailures++;
          const delay = Math.min(MAX_RECEIVE_BACKOFF_MS, 500 * 2 ** Math.min(receiveFailures, 6));
          const problem = this.queue.problemOf(error);
          this.metrics.receiveFailures.inc({ reason: problem?.kind ?? 'other' });
          if (problem === undefined) this.logger.warn({ err: error, retryInMs: delay }, 'receive failed; retrying');
          else this.reportQueueProblem(problem, delay);
          await sleep(delay, this.stopController.signal);
          continue;
        }
        if (this.queueProblem !== undefined) {
          this.logger.info({ queueUrl: this.queue.queueUrl, after: this.queueProblem.problem.kind }, 'queue usable again');
          this.queueProblem = undefined;
        }
        if (this.isStopping()) {
          await this.releaseNow(messages);
          break;
        }
        if (messages.length === 0 && options.drain && this.inFlight.size === 0) {
          this.logger.info('queue drained');
          break;
        }
        for (const message of messages) this.start(message);
      }
    } catch (error) {
      this.crashed = true;
      throw error;
    }
    await this.finishInFlight();
  }

  /**
   * A queue gone or forbidden is an operator's problem, not a blip: one error line with the fix,
   * no stack trace, repeated at most every QUEUE_PROBLEM_LOG_MS (with the failures in between)
   * rather than on every receive; /readyz says 503 meanwhile.
   */
  private reportQueueProblem(problem: QueueProblem, retryInMs: number): void {
    const now = Date.now();
    const previous = this.queueProblem;
    if (previous !== undefined && previous.problem.kind === problem.kind && now - previous.loggedAt < QUEUE_PROBLEM_LOG_MS) {
      previous.failures++;
      return;
    }
    this.logger.error(
      { queueUrl: this.queue.queueUrl, problem: problem.kind, code: problem.code, failures: (previous?.failures ?? 0) + 1, retryInMs },
      this.queue.describeProblem(problem),
    );
    this.queueProblem = { problem, loggedAt: now, failures: 0 };
  }

  private async releaseNow(messages: readonly QueueMessage[]): Promise<void> {
    await Promise.all(
      messages.map((message) =>
        this.queue.setVisibility(message, 0).catch((error: unknown) => {
          this.logger.warn({ err: error, messageId: message.messageId }, 'release failed; the lease will expire');
        }),
      ),
    );
  }

  private async waitForSlot(): Promise<void> {
    const { signal } = this.stopController;
    while (this.inFlight.size >= this.options.concurrency && !this.isStopping()) {
      // A busy consumer waits here after almost every receive: the abort listener must go with
      // the wait, or a long-lived pod collects one per wait.
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          resolve();
        };
        this.slotFreed = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  private start(message: QueueMessage): void {
    this.metrics.messagesReceived.inc();
    this.metrics.inFlight.inc();
    const entry: InFlight = { message, abandoned: false, handedBack: false, extending: undefined };
    this.inFlight.add(entry);
    this.handle(entry)
      .catch((error: unknown) => {
        // handle() settles every message itself; this is a last guard so one message can never
        // take the consumer down.
        this.logger.error({ err: error, messageId: message.messageId }, 'unexpected error while settling a message');
      })
      .finally(() => {
        this.inFlight.delete(entry);
        this.metrics.inFlight.dec();
        this.slotFreed?.();
        this.settledListener?.();
      });
  }

  /** Waits until work in flight is settled, or handed back at the stop deadline. */
  private async finishInFlight(): Promise<void> {
    await new Promise<void>((resolve) => {
      const check = () => {
        if ([...this.inFlight].every((entry) => entry.handedBack)) resolve();
      };
      this.settledListener = check;
      check();
    });
    clearTimeout(this.deadlineTimer);
  }

  /** At the stop deadline: hands unfinished messages back so another consumer takes them now. */
  private async abandonUnfinished(): Promise<void> {
    const unfinished = [...this.inFlight].filter((entry) => !entry.abandoned);
    if (unfinished.length === 0) return;
    this.logger.warn(
      { unfinished: unfinished.length, deadlineSeconds: this.options.drainDeadlineSeconds },
      'drain deadline passed: releasing unfinished messages',
    );
    for (const entry of unfinished) entry.abandoned = true;
    // The handler itself goes on until the process exits; its lease heartbeat must not undo the
    // release, so wait for extensions already sent (no new one starts once abandoned).
    await Promise.all(unfinished.map((entry) => entry.extending ?? Promise.resolve()));
    await this.releaseNow(unfinished.map((entry) => entry.message));
    for (const entry of unfinished) entry.handedBack = true;
    this.settledListener?.();
  }

  /** Renews the message's lease every third of the visibility timeout until the returned end() is awaited. */
  private leaseFor(entry: InFlight): { end(): Promise<void> } {
    const { message } = entry;
    const visibility = this.options.visibilityTimeoutSeconds;
    const timer = setInterval(
      () => {
        if (entry.abandoned) {
          clearInterval(timer);
          return;
        }
        // One extension at a time: a slow one is not overtaken by the next.
        if (entry.extending !== undefined) return;
        entry.extending = this.queue
          .setVisibility(message, visibility)
          .catch((error: unknown) => {
            this.logger.warn({ err: error, messageId: message.messageId }, 'lease extension failed');
          })
          .finally(() => {
            entry.extending = undefined;
          });
      },
      Math.max(1000, (visibility * 1000) / 3),
    );
    return {
      end: async () => {
        clearInterval(timer);
        await entry.extending;
      },
    };
  }

  private async handle(entry: InFlight): Promise<void> {
    const { message } = entry;
    const lease = this.leaseFor(entry);
    const log = this.logger.child({ messageId: message.messageId, receiveCount: message.receiveCount });
    let verdict: Verdict;
    try {
      verdict = await this.handler(message, { log });
    } catch (error) {
      verdict = { kind: 'retry', error };
    } finally {
      // The heartbeat ends before the final call, and an extension still in flight lands first:
      // landing after a release, it would hide the message for a whole visibility timeout again.
      await lease.end();
    }
    await this.settle(entry, verdict, log);
  }

  /** Makes the verdict's queue call, unless the stop deadline already handed the message back. */
  private async settle(entry: InFlight, verdict: Verdict, log: Logger): Promise<void> {
    if (entry.abandoned) return;
    const { message } = entry;
    try {
      switch (verdict.kind) {
        case 'ack':
          await this.queue.ack(message);
          return;
        case 'deadLetter': {
          const { reason, error } = verdict.details;
          await this.queue.deadLetter(message, verdict.details);
          this.metrics.deadLettered.inc({ reason });
          (verdict.log ?? log).warn({ outcome: 'dead-lettered', reason, error }, 'message dead-lettered');
          return;
        }
        case 'retry':
          await this.retryLater(message, verdict.error, verdict.log ?? log);
          return;
      }
    } catch (error) {
      // Not settled: the lease expires and the message comes back; a handler that writes
      // idempotently cannot duplicate anything on the retry.
      this.logger.warn({ err: error, messageId: message.messageId }, 'could not settle message; it will be redelivered');
    }
  }

  private async retryLater(message: QueueMessage, error: unknown, log: Logger): Promise<void> {
    const { retryBaseSeconds, retryMaxSeconds } = this.options;
    const exponential = retryBaseSeconds * 2 ** Math.min(message.receiveCount - 1, 16);
    // Jitter spreads retries of a burst of failures (say, an Elasticsearch restart).
    const delay = Math.min(retryMaxSeconds, exponential) * (0.8 + this.random() * 0.4);
    const reason = retryReasonOf(error);
    await this.queue.setVisibility(message, delay);
    this.metrics.filesRetried.inc({ reason });
    if (error instanceof AuthorizationError) {
      // Loud: every message will fail so until the credentials are fixed.
      log.error({ outcome: 'retry', reason, err: error, fix: error.fix, retryInSeconds: Math.round(delay) }, 'not authorized; message released for retry until the credentials are fixed');
      return;
    }
    log.warn({ outcome: 'retry', reason, err: error, retryInSeconds: Math.round(delay) }, 'transient failure; message released for retry');
  }
}
