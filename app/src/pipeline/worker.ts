// The queue worker: receives messages while earlier ones are still being processed (up to
// `concurrency` in flight), holds a lease on each, and ends every message in exactly one of
// three ways: acknowledged after all its chunks are written, dead-lettered with a reason, or
// released for a retry with a growing delay. It never crashes on a message.
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../config/config.js';
import { fetchObject } from '../fetch/s3.js';
import { isPermanent, type DeadLetterReason } from '../failure.js';
import type { Logger } from '../observe/logger.js';
import type { WorkerMetrics } from '../observe/metrics.js';
import { stageCpu } from '../observe/stage-cpu.js';
import { s3FilePath, type WriteClaim } from '../sink/document.js';
import { allowedLocationsOf, type AllowedLocation } from '../s3-names.js';
import { parseMessage, type FileEvent } from '../source/message.js';
import { describeQueueProblem, queueProblemOf, type QueueMessage, type QueueProblem, type SqsQueue } from '../source/sqs.js';
import type { FileIndexer } from './index-file.js';

export interface WorkerOptions {
  /** Exit once a receive comes back empty with nothing in flight. */
  readonly drain: boolean;
}

interface InFlight {
  readonly message: QueueMessage;
  /** Set when the stop deadline passed and the message was handed back: never ack it after. */
  abandoned: boolean;
  readonly done: Promise<void>;
  /** The lease extension in flight, if any: a release must land after it, or it re-hides the message. */
  extending?: Promise<void>;
}

type WorkerSettings = Pick<Settings, 'sqs' | 'worker' | 'fetch' | 's3'>;

const FETCH_TIMEOUT_MS = 10 * 60 * 1000;

/** At most one log line per this long while the queue stays missing or forbidden. */
export const QUEUE_PROBLEM_LOG_MS = 60_000;

/** Resolves after `ms`, or at once when `signal` aborts; removes its abort listener either way. */
const sleep = (ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }).catch(() => undefined);

export class Worker {
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
  /** What messages may name (S3_ALLOWED_BUCKETS); checked before any object is read. */
  private readonly allowed: readonly AllowedLocation[];

  constructor(
    private readonly queue: SqsQueue,
    private readonly s3: S3Client,
    private readonly indexer: FileIndexer,
    private readonly settings: WorkerSettings,
    private readonly logger: Logger,
    private readonly metrics: WorkerMetrics,
  ) {
    this.allowed = allowedLocationsOf(settings.s3);
  }

  /** Liveness: false once the receive loop died of an unexpected error. */
  live(): boolean {
    return !this.crashed;
  }

  /** Readiness: false while the queue is missing or not allowed (the receive loop keeps trying). */
  queueUsable(): boolean {
    return this.queueProblem === undefined;
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
      describeQueueProblem(this.queue.queueUrl, problem),
    );
    this.queueProblem = { problem, loggedAt: now, failures: 0 };
  }

  /** A method, not a getter: it changes across awaits, which narrowing must not assume away. */
  isStopping(): boolean {
    return this.stopController.signal.aborted;
  }

  /**
   * Begins a graceful stop: no new receives; a receive already waiting is allowed to return (an
   * aborted long poll can leave messages handed out but never delivered, invisible to everyone
   * until their timeout: cut on moto, the server went on polling for the rest of the wait and hid
   * the messages sent meanwhile), and what it returns is released at once. Work in flight gets until the
   * drain deadline, counted from now; whatever is unfinished then is released to other workers.
   */
  stop(): void {
    if (this.isStopping()) return;
    this.logger.info({ inFlight: this.inFlight.size }, 'stopping: no more receives, finishing work in flight');
    this.stopController.abort();
    this.deadlineTimer = setTimeout(() => {
      this.receiveController.abort();
      void this.abandonUnfinished();
    }, this.settings.worker.drainDeadlineSeconds * 1000);
  }

  async run(options: WorkerOptions): Promise<void> {
    const { sqs, worker } = this.settings;
    let receiveFailures = 0;
    try {
      while (!this.isStopping()) {
        await this.waitForSlot();
        if (this.isStopping()) break;
        let messages: QueueMessage[];
        try {
          messages = await this.queue.receive(
            worker.concurrency - this.inFlight.size,
            sqs.waitTimeSeconds,
            sqs.visibilityTimeoutSeconds,
            this.receiveController.signal,
          );
          receiveFailures = 0;
        } catch (error) {
          if (this.isStopping()) break;
          receiveFailures++;
          const delay = Math.min(30_000, 500 * 2 ** Math.min(receiveFailures, 6));
          const problem = queueProblemOf(error);
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
    while (this.inFlight.size >= this.settings.worker.concurrency && !this.isStopping()) {
      // A busy worker waits here after almost every receive: the abort listener must go with the
      // wait, or a long-lived pod collects one per wait.
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
    const entry: InFlight = {
      message,
      abandoned: false,
      done: Promise.resolve(),
    };
    const done = this.handle(entry)
      .catch((error: unknown) => {
        // handle() settles every message itself; this is a last guard so one message can
        // never take the worker down.
        this.logger.error({ err: error, messageId: message.messageId }, 'unexpected error while settling a message');
      })
      .finally(() => {
        this.inFlight.delete(entry);
        this.metrics.inFlight.dec();
        this.slotFreed?.();
        this.settledListener?.();
      });
    Object.assign(entry, { done });
    this.inFlight.add(entry);
  }

  /** Waits until work in flight is settled, or abandoned at the stop deadline. */
  private async finishInFlight(): Promise<void> {
    await new Promise<void>((resolve) => {
      const check = () => {
        if ([...this.inFlight].every((entry) => entry.abandoned)) resolve();
      };
      this.settledListener = check;
      check();
    });
    clearTimeout(this.deadlineTimer);
  }

  /** At the stop deadline: hands unfinished messages back so another worker takes them now. */
  private async abandonUnfinished(): Promise<void> {
    const unfinished = [...this.inFlight].filter((entry) => !entry.abandoned);
    if (unfinished.length === 0) return;
    this.logger.warn(
      { unfinished: unfinished.length, deadlineSeconds: this.settings.worker.drainDeadlineSeconds },
      'drain deadline passed: releasing unfinished messages',
    );
    for (const entry of unfinished) entry.abandoned = true;
    // The work itself goes on until the process exits; its lease heartbeat must not undo the
    // release, so wait for extensions already sent (no new one starts once abandoned).
    await Promise.all(unfinished.map((entry) => entry.extending ?? Promise.resolve()));
    await this.releaseNow(unfinished.map((entry) => entry.message));
    this.settledListener?.();
  }

  private leaseFor(entry: InFlight): () => void {
    const { message } = entry;
    const visibility = this.settings.sqs.visibilityTimeoutSeconds;
    const timer = setInterval(
      () => {
        if (entry.abandoned) {
          clearInterval(timer);
          return;
        }
        entry.extending = this.queue.setVisibility(message, visibility).catch((error: unknown) => {
          this.logger.warn({ err: error, messageId: message.messageId }, 'lease extension failed');
        });
      },
      Math.max(1000, (visibility * 1000) / 3),
    );
    return () => {
      clearInterval(timer);
    };
  }

  private async handle(entry: InFlight): Promise<void> {
    const { message } = entry;
    const started = performance.now();
    const endLease = this.leaseFor(entry);
    const log = this.logger.child({ messageId: message.messageId, receiveCount: message.receiveCount });
    try {
      const parsed = parseMessage(message.body, this.allowed);
      if (parsed.kind === 'invalid') {
        await this.settle(entry, () => this.deadLetter(message, 'malformed_message', parsed.reason, log));
        return;
      }
      if (parsed.kind === 'forbidden') {
        const fileLog = log.child({ bucket: parsed.file.bucket, key: parsed.file.key });
        await this.settle(entry, () => this.deadLetter(message, 'forbidden_bucket', parsed.reason, fileLog, parsed.file));
        return;
      }
      if (parsed.kind === 'ignore') {
        log.info({ outcome: 'ignored', why: parsed.reason }, 'message ignored');
        await this.settle(entry, () => this.queue.ack(message));
        return;
      }
      let current: FileEvent | undefined;
      try {
        for (const event of parsed.events) {
          current = event;
          await this.processEvent(event, log);
        }
      } catch (error) {
        if (entry.abandoned) return;
        // The failing file's bucket and key go on the line: an operator looking up a key in the
        // logs finds why it is not indexed.
        const failed = current;
        const fileLog = failed === undefined ? log : log.child({ bucket: failed.bucket, key: failed.key });
        if (isPermanent(error)) {
          await this.settle(entry, () => this.deadLetter(message, error.reason, error.message, fileLog, failed));
        } else {
          await this.settle(entry, () => this.retryLater(message, error, fileLog));
        }
        return;
      }
      await this.settle(entry, () => this.queue.ack(message));
      this.metrics.stageSeconds.observe({ stage: 'total' }, (performance.now() - started) / 1000);
    } finally {
      endLease();
    }
  }

  /** Runs the final queue call for a message unless the stop deadline already handed it back. */
  private async settle(entry: InFlight, action: () => Promise<void>): Promise<void> {
    if (entry.abandoned) return;
    try {
      await action();
    } catch (error) {
      // Not settled: the lease expires and the message comes back; chunks are written
      // idempotently, so the retry cannot duplicate them.
      this.logger.warn({ err: error, messageId: entry.message.messageId }, 'could not settle message; it will be redelivered');
    }
  }

  /**
   * Brings the index in line with the object as S3 has it now. The claim comes before the
   * download, so a later claim always reads the object later, and a later claim always wins: the
   * last write of a file is made from its last version (docs/operations.md).
   */
  private async processEvent(event: FileEvent, log: Logger): Promise<void> {
    const filePath = s3FilePath(event.bucket, event.key);
    const fileLog = log.child({ bucket: event.bucket, key: event.key, action: event.action });
    // Re-running a backfill, or a duplicate notification, costs one record read. No claim is
    // taken: nothing is written, and a writer at work leaves the record "claimed", not "indexed".
    if (event.action === 'upsert' && event.etag !== undefined && event.force !== true && (await this.indexer.isUnchanged(filePath, event.etag))) {
      this.metrics.filesUnchanged.inc();
      fileLog.info({ outcome: 'unchanged', origin: event.origin }, 'file unchanged since it was indexed; skipped');
      return;
    }
    const claim = await this.indexer.claim(filePath);
    try {
      await this.processClaimed(event, claim, fileLog);
    } catch (error) {
      // A file whose message is dead-lettered says so on its record (with the reason) instead of
      // staying "claimed" for ever. A missing object's record already says "absent". If the
      // record cannot be written, that error goes on instead: the message is retried, not lost.
      if (isPermanent(error) && error.reason !== 'missing_object') await this.indexer.recordDeadLettered(claim, error.reason);
      throw error;
    }
  }

  private async processClaimed(event: FileEvent, claim: WriteClaim, fileLog: Logger): Promise<void> {
    const filePath = claim.filePath;
    const fetchStarted = performance.now();
    let object;
    try {
      object = await stageCpu.measure('fetch', () =>
        fetchObject(this.s3, {
          bucket: event.bucket,
          key: event.key,
          maxBytes: this.settings.fetch.maxBytes,
          // A stalled download must not hold the message forever; its lease would be extended on.
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        }),
      );
    } catch (error) {
      if (!isPermanent(error) || error.reason !== 'missing_object') throw error;
      // Gone: whatever the message said, the file's chunks go too.
      const { removed, superseded } = await this.indexer.remove(claim);
      if (superseded) this.metrics.filesSuperseded.inc();
      else this.metrics.filesRemoved.inc();
      fileLog.info(
        { outcome: superseded ? 'superseded' : 'removed', chunksRemoved: removed },
        event.action === 'remove' ? 'file removed from the index' : 'object gone before download; its chunks removed',
      );
      // A request ({"bucket","key"}) named an object that does not exist: say so in the DLQ. A
      // notification of a file deleted since is normal; its ObjectRemoved said the rest.
      if (event.origin === 'request') throw error;
      return;
    }
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    const result = await this.indexer.index(
      {
        bytes: object.bytes,
        fileName: path.posix.basename(event.key),
        filePath,
        object: {
          ...(object.etag === undefined ? {} : { etag: object.etag }),
          ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
          ...(object.lastModified === undefined ? {} : { lastModified: object.lastModified }),
        },
      },
      claim,
    );
    const { metrics } = this;
    metrics.stageSeconds.observe({ stage: 'fetch' }, fetchSeconds);
    for (const [stage, seconds] of Object.entries(result.seconds)) {
      metrics.stageSeconds.observe({ stage: stage }, seconds);
    }
    metrics.chunksEmbedded.inc(result.chunks);
    metrics.tokensEmbedded.inc(result.tokens);
    const details = {
      bytes: object.bytes.byteLength,
      contentType: result.contentType,
      chunks: result.chunks,
      tokens: result.tokens,
      staleDeleted: result.staleDeleted,
      seconds: { fetch: fetchSeconds, ...result.seconds },
    };
    if (result.superseded) {
      metrics.filesSuperseded.inc();
      fileLog.info({ outcome: 'superseded', ...details }, 'file changed meanwhile; the later version stays');
      return;
    }
    metrics.filesIndexed.inc();
    metrics.lastSuccess.setToCurrentTime();
    fileLog.info({ outcome: 'indexed', ...details }, 'file indexed');
  }

  private async deadLetter(message: QueueMessage, reason: DeadLetterReason, error: string, log: Logger, file?: FileEvent): Promise<void> {
    await this.queue.deadLetter(message, { reason, error, ...(file === undefined ? {} : { bucket: file.bucket, key: file.key }) });
    this.metrics.deadLettered.inc({ reason });
    log.warn({ outcome: 'dead-lettered', reason, error }, 'message dead-lettered');
  }

  private async retryLater(message: QueueMessage, error: unknown, log: Logger): Promise<void> {
    const { retryBaseSeconds, retryMaxSeconds } = this.settings.sqs;
    const exponential = retryBaseSeconds * 2 ** Math.min(message.receiveCount - 1, 16);
    // Jitter spreads retries of a burst of failures (say, an Elasticsearch restart).
    const delay = Math.min(retryMaxSeconds, exponential) * (0.8 + Math.random() * 0.4);
    const reason = error instanceof Error && 'reason' in error && typeof error.reason === 'string' ? error.reason : 'unexpected_error';
    await this.queue.setVisibility(message, delay);
    this.metrics.filesRetried.inc({ reason });
    log.warn({ outcome: 'retry', reason, err: error, retryInSeconds: Math.round(delay) }, 'transient failure; message released for retry');
  }
}
