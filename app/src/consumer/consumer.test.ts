// The consumer's lifecycle in-process: an in-memory queue whose every call the test answers when
// it chooses, and node:test's mock timers for the heartbeat, the backoff and the drain deadline.
// No test waits on real time.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { AuthorizationError, TransientError } from '../failure.js';
import { createMetrics, type WorkerMetrics } from '../observe/metrics.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { ACK, type MessageHandler, type Verdict } from './handler.js';
import type { DeadLetterDetails, MessageQueue, QueueMessage, QueueProblem } from './queue.js';

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** Lets every promise chain that can move on do so (setImmediate is not mocked). */
async function flush(): Promise<void> {
  for (let round = 0; round < 20; round++) await new Promise((resolve) => setImmediate(resolve));
}

function messageOf(id: string, receiveCount = 1): QueueMessage {
  return { messageId: id, receiptHandle: `receipt-${id}`, body: `body of ${id}`, receiveCount };
}

interface PendingReceive {
  readonly maxMessages: number;
  readonly signal: AbortSignal | undefined;
  readonly answer: Deferred<QueueMessage[]>;
}

/** Whether the consumer aborted the receive's wait. */
function wasCut(receive: PendingReceive): boolean {
  return receive.signal?.aborted === true;
}

class QueueProblemError extends Error {
  override name = 'QueueDoesNotExist';
}

/**
 * A queue that records every call. Receives wait until the test answers them (or a scripted
 * answer is queued); visibility changes complete at once unless the test holds them.
 */
class FakeQueue implements MessageQueue {
  readonly queueUrl = 'fake://queue';
  /** Every call, in order: `receive`, `visibility <id> <seconds>`, `ack <id>`, `deadLetter <id> <reason>`. */
  readonly calls: string[] = [];
  readonly pending: PendingReceive[] = [];
  /** Answers for receives to come, taken in order before any receive waits. */
  readonly scripted: (() => Promise<QueueMessage[]>)[] = [];
  /** When set, a receive with nothing scripted answers "empty" at once instead of waiting for the test. */
  emptyAtOnce = false;
  /** While set, visibility changes wait for it. */
  holdVisibility: Promise<void> | undefined;
  readonly deadLettered: DeadLetterDetails[] = [];

  receive(maxMessages: number, _wait: number, _visibility: number, signal?: AbortSignal): Promise<QueueMessage[]> {
    this.calls.push('receive');
    const next = this.scripted.shift();
    if (next !== undefined) return next();
    if (this.emptyAtOnce) return Promise.resolve([]);
    const answer = deferred<QueueMessage[]>();
    this.pending.push({ maxMessages, signal, answer });
    signal?.addEventListener('abort', () => {
      answer.reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
    return answer.promise;
  }

  /** The receive waiting now (the consumer has at most one). */
  waiting(): PendingReceive {
    const receive = this.pending.shift();
    assert.ok(receive !== undefined, `no receive is waiting; calls: ${this.calls.join(', ')}`);
    return receive;
  }

  async setVisibility(message: QueueMessage, seconds: number): Promise<void> {
    this.calls.push(`visibility ${message.messageId} ${seconds}`);
    await this.holdVisibility;
  }

  ack(message: QueueMessage): Promise<void> {
    this.calls.push(`ack ${message.messageId}`);
    return Promise.resolve();
  }

  deadLetter(message: QueueMessage, details: DeadLetterDetails): Promise<void> {
    this.calls.push(`deadLetter ${message.messageId} ${details.reason}`);
    this.deadLettered.push(details);
    return Promise.resolve();
  }

  problemOf(error: unknown): QueueProblem | undefined {
    return error instanceof QueueProblemError ? { kind: 'queue_missing', code: error.name, detail: error.message } : undefined;
  }

  describeProblem(problem: QueueProblem): string {
    return `queue problem: ${problem.kind}`;
  }

  /** The calls about one message, in order. */
  callsFor(id: string): string[] {
    return this.calls.filter((call) => call.split(' ')[1] === id);
  }
}

const OPTIONS: ConsumerOptions = {
  concurrency: 2,
  waitTimeSeconds: 20,
  visibilityTimeoutSeconds: 30,
  drainDeadlineSeconds: 60,
  retryBaseSeconds: 10,
  retryMaxSeconds: 900,
  random: () => 0.5,
};

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A handler whose every call waits until the test settles it. */
class HeldHandler {
  readonly calls = new Map<string, Deferred<Verdict>>();
  readonly handle: MessageHandler = (message) => {
    const verdict = deferred<Verdict>();
    this.calls.set(message.messageId, verdict);
    return verdict.promise;
  };

  settle(id: string, verdict: Verdict): void {
    const call = this.calls.get(id);
    assert.ok(call !== undefined, `${id} was never handled`);
    call.resolve(verdict);
  }
}

function setUp(t: TestContext, handler: MessageHandler, options: Partial<ConsumerOptions> = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const queue = new FakeQueue();
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  const metrics = createMetrics({ defaultMetrics: false });
  const consumer = new Consumer(queue, handler, { ...OPTIONS, ...options }, logger, metrics);
  /** Runs with `drain` against a queue that holds `messages`, then is empty. */
  const drain = async (...messages: QueueMessage[]) => {
    queue.scripted.push(() => Promise.resolve(messages));
    queue.emptyAtOnce = true;
    await consumer.run({ drain: true });
  };
  const logged = (msg: string) => lines.filter((line) => line.msg === msg);
  return { queue, consumer, metrics, lines, logged, drain };
}

async function counterValue(metrics: WorkerMetrics, name: 'deadLettered' | 'filesRetried' | 'receiveFailures', reason: string): Promise<number> {
  const { values } = await metrics[name].get();
  return values.find((value) => value.labels.reason === reason)?.value ?? 0;
}

/** Watches a run to its end without awaiting it, so the test can go on driving time. */
function watch(run: Promise<void>): { done: () => boolean; run: Promise<void> } {
  let finished = false;
  void run.then(() => {
    finished = true;
  });
  return { done: () => finished, run };
}

test('verdict ack: the message is deleted, nothing else', async (t) => {
  const { queue, consumer, drain } = setUp(t, () => Promise.resolve(ACK));
  await drain(messageOf('m1'));
  assert.deepEqual(queue.callsFor('m1'), ['ack m1']);
  assert.equal(consumer.inFlightCount(), 0);
});

test('verdict deadLetter: the details go to the queue, the reason to the metric and the log', async (t) => {
  const details: DeadLetterDetails = { reason: 'corrupt', error: 'not a PDF', bucket: 'b', key: 'k.pdf' };
  const { queue, metrics, logged, drain } = setUp(t, () => Promise.resolve({ kind: 'deadLetter', details }));
  await drain(messageOf('m1'));
  assert.deepEqual(queue.callsFor('m1'), ['deadLetter m1 corrupt']);
  assert.deepEqual(queue.deadLettered, [details]);
  assert.equal(await counterValue(metrics, 'deadLettered', 'corrupt'), 1);
  const [line] = logged('message dead-lettered');
  assert.equal(line?.outcome, 'dead-lettered');
  assert.equal(line.messageId, 'm1', 'the message logger names the message');
});

test('verdict retry: released after a delay growing with the receive count, labelled by the error reason', async (t) => {
  const { queue, metrics, logged, drain } = setUp(t, () => Promise.resolve({ kind: 'retry', error: new TransientError('elasticsearch_unavailable', 'down') }));
  // Third delivery: 10 s × 2² = 40 s, jitter factor 0.8 + 0.5 × 0.4 = 1.
  await drain(messageOf('m1', 3));
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 40']);
  assert.equal(await counterValue(metrics, 'filesRetried', 'elasticsearch_unavailable'), 1);
  assert.equal(logged('transient failure; message released for retry')[0]?.retryInSeconds, 40);
});

test('an authorization error is retried, never dead-lettered, with an error line that names the fix and a count', async (t) => {
  const refused = new AuthorizationError('s3_access_denied', 's3://b/k: AccessDenied (HTTP 403)', "grant s3:GetObject on s3://b/* to the worker's role");
  const { queue, metrics, lines, drain } = setUp(t, () => Promise.resolve({ kind: 'retry', error: refused }));
  await drain(messageOf('m1'), messageOf('m2'));
  assert.deepEqual([...queue.callsFor('m1'), ...queue.callsFor('m2')], ['visibility m1 10', 'visibility m2 10']);
  assert.deepEqual(queue.deadLettered, []);
  assert.equal(await counterValue(metrics, 'filesRetried', 's3_access_denied'), 2);
  const loud = lines.filter((line) => line.outcome === 'retry');
  assert.deepEqual(loud.map((line) => [line.level, line.fix]), [
    [50, refused.fix],
    [50, refused.fix],
  ]);
});

test('a retry delay stops at retryMaxSeconds', async (t) => {
  const { queue, drain } = setUp(t, () => Promise.resolve({ kind: 'retry', error: new Error('x') }), { random: () => 0 });
  await drain(messageOf('m1', 30));
  assert.deepEqual(queue.callsFor('m1'), [`visibility m1 ${900 * 0.8}`]);
});

test('a handler that throws counts as a retry (unexpected_error), never a crash or a dead letter', async (t) => {
  const { queue, consumer, metrics, drain } = setUp(t, () => Promise.reject(new Error('bug')));
  await drain(messageOf('m1'));
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 10']);
  assert.equal(await counterValue(metrics, 'filesRetried', 'unexpected_error'), 1);
  assert.equal(consumer.live(), true);
});

test('a verdict the queue refuses is logged and left to its lease, and the loop goes on', async (t) => {
  const { queue, logged, drain } = setUp(t, () => Promise.resolve(ACK));
  queue.ack = () => Promise.reject(new Error('throttled'));
  await drain(messageOf('m1'));
  assert.equal(logged('could not settle message; it will be redelivered').length, 1);
});

test('stop while waiting for a slot: no receive after stop, work in flight finishes and is acked', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer } = setUp(t, handler.handle, { concurrency: 1 });
  const run = watch(consumer.run({ drain: false }));
  await flush();
  queue.waiting().answer.resolve([messageOf('m1')]);
  await flush();
  // One slot, taken: the loop waits for it rather than receiving.
  assert.deepEqual(queue.calls, ['receive']);
  consumer.stop();
  await flush();
  assert.equal(run.done(), false, 'work in flight holds the run');
  handler.settle('m1', ACK);
  await run.run;
  assert.deepEqual(queue.calls, ['receive', 'ack m1']);
});

test('stop mid-message: the waiting long poll is not cut, what it returns is released unhandled, the message in hand is acked', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer } = setUp(t, handler.handle);
  const run = watch(consumer.run({ drain: false }));
  await flush();
  queue.waiting().answer.resolve([messageOf('m1')]);
  await flush();
  const poll = queue.waiting();
  consumer.stop();
  await flush();
  // Cut, a poll on moto went on server-side and hid what arrived meanwhile (docs/operations.md).
  assert.equal(wasCut(poll), false);
  poll.answer.resolve([messageOf('m2')]);
  await flush();
  assert.deepEqual(queue.callsFor('m2'), ['visibility m2 0']);
  assert.equal(handler.calls.has('m2'), false);
  handler.settle('m1', ACK);
  await run.run;
  assert.deepEqual(queue.callsFor('m1'), ['ack m1']);
  assert.equal(queue.calls.filter((call) => call === 'receive').length, 2);
});

test('the drain deadline passing with work in flight releases the message and ends the run; a poll still waiting is cut then', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer, logged } = setUp(t, handler.handle, { drainDeadlineSeconds: 5 });
  const run = watch(consumer.run({ drain: false }));
  await flush();
  queue.waiting().answer.resolve([messageOf('m1')]);
  await flush();
  const poll = queue.waiting();
  consumer.stop();
  t.mock.timers.tick(4_999);
  await flush();
  assert.equal(run.done(), false);
  assert.equal(wasCut(poll), false);
  t.mock.timers.tick(1);
  await run.run;
  assert.equal(wasCut(poll), true);
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 0']);
  assert.equal(logged('drain deadline passed: releasing unfinished messages')[0]?.unfinished, 1);
});

test('an abandoned message is never settled, whatever its verdict', async (t) => {
  for (const verdict of [ACK, { kind: 'deadLetter', details: { reason: 'corrupt', error: 'x' } }, { kind: 'retry', error: new Error('x') }] satisfies Verdict[]) {
    const handler = new HeldHandler();
    const { queue, consumer } = setUp(t, handler.handle, { drainDeadlineSeconds: 1 });
    queue.scripted.push(() => Promise.resolve([messageOf('m1')]));
    const run = consumer.run({ drain: false });
    await flush();
    consumer.stop();
    // A stop cuts no poll: answer the one the loop started before it.
    queue.waiting().answer.resolve([]);
    t.mock.timers.tick(1_000);
    await run;
    handler.settle('m1', verdict);
    await flush();
    t.mock.timers.tick(60_000);
    await flush();
    assert.deepEqual(queue.callsFor('m1'), ['visibility m1 0'], `after ${verdict.kind}`);
    t.mock.timers.reset();
  }
});

test('the lease is extended every third of the visibility timeout while the handler works, and not after', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer } = setUp(t, handler.handle, { visibilityTimeoutSeconds: 30 });
  queue.scripted.push(() => Promise.resolve([messageOf('m1')]), () => new Promise(() => undefined));
  void consumer.run({ drain: false });
  await flush();
  t.mock.timers.tick(10_000);
  await flush();
  t.mock.timers.tick(10_000);
  await flush();
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 30', 'visibility m1 30']);
  handler.settle('m1', ACK);
  await flush();
  t.mock.timers.tick(30_000);
  await flush();
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 30', 'visibility m1 30', 'ack m1']);
});

test('a lease extension in flight lands before the retry release, never after it', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer } = setUp(t, handler.handle, { visibilityTimeoutSeconds: 3 });
  queue.scripted.push(() => Promise.resolve([messageOf('m1')]), () => new Promise(() => undefined));
  void consumer.run({ drain: false });
  await flush();
  const extension = deferred<undefined>();
  queue.holdVisibility = extension.promise;
  t.mock.timers.tick(1_000);
  await flush();
  handler.settle('m1', { kind: 'retry', error: new Error('x') });
  await flush();
  // The release waits for the extension: sent after it lands, it wins.
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 3']);
  queue.holdVisibility = undefined;
  extension.resolve(undefined);
  await flush();
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 3', 'visibility m1 10']);
});

test('a lease extension in flight at the drain deadline lands before the release', async (t) => {
  const handler = new HeldHandler();
  const { queue, consumer } = setUp(t, handler.handle, { visibilityTimeoutSeconds: 3, drainDeadlineSeconds: 2 });
  queue.scripted.push(() => Promise.resolve([messageOf('m1')]), () => Promise.resolve([]));
  const run = watch(consumer.run({ drain: false }));
  await flush();
  consumer.stop();
  const extension = deferred<undefined>();
  queue.holdVisibility = extension.promise;
  t.mock.timers.tick(1_000);
  await flush();
  t.mock.timers.tick(1_000);
  await flush();
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 3'], 'no release while the extension is out');
  assert.equal(run.done(), false);
  queue.holdVisibility = undefined;
  extension.resolve(undefined);
  await run.run;
  assert.deepEqual(queue.callsFor('m1'), ['visibility m1 3', 'visibility m1 0']);
});

test('receive errors back off 1 s, 2 s, 4 s…; a success resets the count', async (t) => {
  const { queue, consumer, metrics, logged } = setUp(t, () => Promise.resolve(ACK));
  const run = watch(consumer.run({ drain: true }));
  const receives = () => queue.calls.filter((call) => call === 'receive').length;
  for (const [failure, backoffMs] of [1_000, 2_000, 4_000].entries()) {
    await flush();
    queue.waiting().answer.reject(new Error('socket hang up'));
    await flush();
    t.mock.timers.tick(backoffMs - 1);
    await flush();
    assert.equal(receives(), failure + 1, `no receive before ${backoffMs} ms`);
    t.mock.timers.tick(1);
  }
  await flush();
  queue.waiting().answer.resolve([messageOf('m1')]);
  await flush();
  queue.waiting().answer.reject(new Error('socket hang up'));
  await flush();
  t.mock.timers.tick(1_000);
  await flush();
  queue.waiting().answer.resolve([]);
  await run.run;
  assert.equal(await counterValue(metrics, 'receiveFailures', 'other'), 4);
  assert.deepEqual(
    logged('receive failed; retrying').map((line) => line.retryInMs),
    [1_000, 2_000, 4_000, 1_000],
  );
});

test('receive backoff tops out at 30 s', async (t) => {
  const { queue, consumer, logged } = setUp(t, () => Promise.resolve(ACK));
  for (let failure = 0; failure < 8; failure++) queue.scripted.push(() => Promise.reject(new Error('down')));
  queue.scripted.push(() => Promise.resolve([]));
  const run = watch(consumer.run({ drain: true }));
  for (let failure = 0; failure < 8; failure++) {
    await flush();
    t.mock.timers.tick(32_000);
  }
  await run.run;
  assert.deepEqual(
    logged('receive failed; retrying').map((line) => line.retryInMs),
    [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000],
  );
});

test('100 receive retries leave at most one abort listener on the stop signal', async (t) => {
  const { queue, consumer } = setUp(t, () => Promise.resolve(ACK));
  for (let failure = 0; failure < 100; failure++) queue.scripted.push(() => Promise.reject(new Error('down')));
  queue.scripted.push(() => Promise.resolve([]));
  const run = watch(consumer.run({ drain: true }));
  while (!run.done()) {
    await flush();
    t.mock.timers.tick(30_000);
  }
  assert.equal(queue.calls.length, 101);
  const { signal } = (consumer as unknown as { stopController: AbortController }).stopController;
  assert.ok(getEventListeners(signal, 'abort').length <= 1, `${getEventListeners(signal, 'abort').length} abort listeners left`);
});

test('stop during a receive backoff ends the run without waiting it out', async (t) => {
  const { queue, consumer } = setUp(t, () => Promise.resolve(ACK));
  queue.scripted.push(() => Promise.reject(new Error('down')));
  const run = watch(consumer.run({ drain: false }));
  await flush();
  consumer.stop();
  await run.run;
  assert.deepEqual(queue.calls, ['receive']);
});

test('a missing queue: one error line a minute with the failures between, not ready until a receive succeeds', async (t) => {
  const { queue, consumer, metrics, logged } = setUp(t, () => Promise.resolve(ACK));
  const run = watch(consumer.run({ drain: true }));
  // Failures at 0, 1, 3, 7, 15, 31 s (backoff 1, 2, 4, 8, 16 s), 61 s (30 s), 91 s.
  for (const backoffMs of [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]) {
    await flush();
    queue.waiting().answer.reject(new QueueProblemError('gone'));
    await flush();
    assert.equal(consumer.queueUsable(), false);
    t.mock.timers.tick(backoffMs);
  }
  await flush();
  const lines = logged('queue problem: queue_missing');
  assert.deepEqual(
    lines.map((line) => line.failures),
    [1, 6],
    'a line at 0 s, the next at 61 s counting the failures since',
  );
  assert.equal(await counterValue(metrics, 'receiveFailures', 'queue_missing'), 7);
  queue.waiting().answer.resolve([]);
  await run.run;
  assert.equal(consumer.queueUsable(), true);
  assert.equal(logged('queue usable again').length, 1);
});

test('10,000 waits at capacity leave at most one abort listener on the stop signal', async () => {
  // Real timers: nothing here waits on time. One message per receive, acknowledged at once; with
  // room for one in flight, the loop waits for a slot after every receive.
  const queue = new FakeQueue();
  let handedOut = 0;
  queue.receive = () => {
    if (handedOut === 10_000) return Promise.resolve([]);
    handedOut++;
    return Promise.resolve([messageOf(`m${handedOut}`)]);
  };
  let acked = 0;
  queue.ack = () => {
    acked++;
    return Promise.resolve();
  };
  const consumer = new Consumer(queue, () => Promise.resolve(ACK), { ...OPTIONS, concurrency: 1 }, pino({ level: 'silent' }), createMetrics({ defaultMetrics: false }));
  await consumer.run({ drain: true });
  assert.equal(acked, 10_000);
  // The signal is the consumer's own; reading it is the only way to count what was left on it.
  const { signal } = (consumer as unknown as { stopController: AbortController }).stopController;
  assert.ok(getEventListeners(signal, 'abort').length <= 1, `${getEventListeners(signal, 'abort').length} abort listeners left`);
});
