// The backfill loop and its parts on fake listings and a fake SendMessageBatch (pure logic): what
// is filtered, how batches go out, what the resume key is when batches finish out of order, stop
// or fail. The real S3 and SQS are in test/integration/backfill.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBody } from '../source/message.js';
import { parseSize } from '../config/size.js';
import { formatBytes, parseTime, skipReasonOf, type ObjectFilter } from './filter.js';
import type { ListedObject } from './lister.js';
import { TokenBucket } from './rate-limiter.js';
import { ResumeTracker } from './resume.js';
import { runBackfillPlan, type BackfillPlan } from './run.js';
import type { EntryFailure, SendBatch } from './sender.js';
import { parseS3Url } from './target.js';

const object = (key: string, extra: Partial<ListedObject> = {}): ListedObject => ({ key, size: 10, etag: '"e"', ...extra });

async function* listing(objects: readonly ListedObject[]): AsyncGenerator<ListedObject> {
  for (const item of objects) {
    await Promise.resolve();
    yield item;
  }
}

const plan = (extra: Partial<BackfillPlan> = {}): BackfillPlan => ({
  target: { bucket: 'docs', prefix: '' },
  filter: { suffixes: ['.txt'] },
  dryRun: false,
  force: false,
  maxInFlight: 4,
  maxAttempts: 3,
  retryBaseMs: 1,
  ...extra,
});

const keysOf = (bodies: readonly string[]) =>
  bodies.map((body) => {
    const parsed = parseBody(body);
    if (parsed.kind !== 'files') assert.fail(`not a files message: ${body}`);
    return parsed.events[0]?.key ?? '';
  });

describe('filters', () => {
  const filter: ObjectFilter = { suffixes: ['.txt', '.PDF'], modifiedSince: new Date('2024-05-01T00:00:00Z'), maxSize: 100 };
  const recent = new Date('2024-06-01T00:00:00Z');
  test('each rule says why an object is skipped', () => {
    assert.equal(skipReasonOf(object('a/B.TXT', { lastModified: recent }), filter), undefined);
    assert.equal(skipReasonOf(object('a/b.pdf', { lastModified: recent }), filter), undefined);
    assert.equal(skipReasonOf(object('a/', { size: 0 }), filter), 'folder');
    assert.equal(skipReasonOf(object('a/b.png', { lastModified: recent }), filter), 'suffix');
    assert.equal(skipReasonOf(object('a/b.txt', { lastModified: new Date('2024-04-30T23:59:59Z') }), filter), 'modified_before');
    assert.equal(skipReasonOf(object('a/b.txt', { lastModified: recent, size: 101 }), filter), 'too_large');
    assert.equal(skipReasonOf(object('anything'), { suffixes: [''] }), undefined);
  });
  test('sizes, times and byte counts parse and print', () => {
    assert.equal(parseSize('5000'), 5000);
    assert.equal(parseSize('50MB'), 50_000_000);
    assert.equal(parseSize('1.5 KiB'), 1536);
    assert.equal(parseSize('ten'), undefined);
    assert.equal(parseTime('2024-05-01')?.toISOString(), '2024-05-01T00:00:00.000Z');
    assert.equal(parseTime('2024-05-01T12:00:00Z')?.toISOString(), '2024-05-01T12:00:00.000Z');
    assert.equal(parseTime('yesterday'), undefined);
    assert.equal(parseTime('2024-13-45'), undefined);
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1_234_567), '1.2 MB');
  });
  test('s3:// URLs give bucket and prefix', () => {
    assert.deepEqual(parseS3Url('s3://docs'), { bucket: 'docs', prefix: '' });
    assert.deepEqual(parseS3Url('s3://docs/a b/ü/'), { bucket: 'docs', prefix: 'a b/ü/' });
    const notUrl = parseS3Url('docs/a');
    assert.equal(typeof notUrl, 'string');
    assert.match(typeof notUrl === 'string' ? notUrl : '', /expected s3:\/\/bucket\/prefix/);
  });
});

test('the token bucket allows a second of burst, then spaces tokens at the rate', () => {
  let now = 0;
  const bucket = new TokenBucket(10, 10, () => now);
  const waits = Array.from({ length: 12 }, () => bucket.reserve());
  assert.deepEqual(waits.slice(0, 10), Array<number>(10).fill(0));
  assert.equal(Math.round(waits[10] ?? 0), 100);
  assert.equal(Math.round(waits[11] ?? 0), 200);
  now = 10_000;
  assert.equal(bucket.reserve(), 0);
});

test('the resume key only moves past keys whose every predecessor is settled', () => {
  const tracker = new ResumeTracker('start');
  const [a, b, c] = ['a', 'b', 'c'].map((key) => tracker.listed(key)) as [number, number, number];
  assert.equal(tracker.resumeAfter, 'start');
  tracker.settled(c);
  assert.equal(tracker.resumeAfter, 'start');
  tracker.settled(a);
  assert.equal(tracker.resumeAfter, 'a');
  assert.equal(tracker.complete, false);
  tracker.settled(b);
  assert.equal(tracker.resumeAfter, 'c');
  assert.equal(tracker.complete, true);
});

describe('runBackfillPlan', () => {
  test('sends every kept object once, in batches of 10, with etag, size and origin', async () => {
    const objects = Array.from({ length: 25 }, (_, i) => object(`k${String(i).padStart(2, '0')}.txt`));
    objects.push(object('skip.png'));
    const batches: string[][] = [];
    const send: SendBatch = (bodies) => {
      batches.push([...bodies]);
      return Promise.resolve([]);
    };
    const result = await runBackfillPlan(listing(objects), send, plan({ force: true }), new AbortController().signal);
    assert.equal(result.status, 'done');
    assert.deepEqual(batches.map((batch) => batch.length).sort((x, y) => x - y), [5, 10, 10]);
    assert.deepEqual(keysOf(batches.flat()).sort(), objects.slice(0, 25).map((o) => o.key));
    assert.deepEqual(JSON.parse(batches[0]?.[0] ?? '{}'), { bucket: 'docs', key: 'k00.txt', etag: 'e', size: 10, origin: 'backfill', force: true });
    assert.equal(result.counts.enqueued, 25);
    assert.equal(result.counts.enqueuedBytes, 250);
    assert.equal(result.counts.skipped.suffix, 1);
  });

  test('a dry run counts what it would send and sends nothing', async () => {
    const send: SendBatch = () => Promise.reject(new Error('sent in a dry run'));
    const result = await runBackfillPlan(listing([object('a.txt'), object('b.txt', { size: 5 }), object('c.md')]), send, plan({ dryRun: true }), new AbortController().signal);
    assert.equal(result.status, 'done');
    assert.deepEqual([result.counts.listed, result.counts.enqueued, result.counts.enqueuedBytes, result.counts.skipped.suffix], [3, 2, 15, 1]);
  });

  test('failed entries are retried; entries failing every try stop the run before them', async () => {
    const objects = Array.from({ length: 30 }, (_, i) => object(`k${String(i).padStart(2, '0')}.txt`));
    const sent = new Set<string>();
    let firstTryOfK05 = true;
    const send: SendBatch = (bodies) => {
      const failures: EntryFailure[] = [];
      keysOf(bodies).forEach((key, index) => {
        // k05 fails once (retried, then sent); k23 always fails.
        if ((key === 'k05.txt' && firstTryOfK05) || key === 'k23.txt') {
          if (key === 'k05.txt') firstTryOfK05 = false;
          failures.push({ index, message: 'InternalError: try again' });
        } else {
          sent.add(key);
        }
      });
      return Promise.resolve(failures);
    };
    const result = await runBackfillPlan(listing(objects), send, plan({ maxInFlight: 1 }), new AbortController().signal);
    assert.equal(result.status, 'failed');
    assert.match(result.error?.message ?? '', /1 message\(s\) not accepted by SQS after 3 tries: InternalError/);
    assert.ok(sent.has('k05.txt'));
    assert.ok(!sent.has('k23.txt'));
    assert.equal(result.resumeAfter, 'k22.txt');
  });

  test('stopped, it waits for batches in flight and resumes after the last key with every predecessor sent', async () => {
    const objects = Array.from({ length: 100 }, (_, i) => object(`k${String(i).padStart(3, '0')}.txt`));
    const stop = new AbortController();
    const sent: string[] = [];
    let calls = 0;
    // Batches finish out of order: the first one slowest. The stop comes while several are on the wire.
    const send: SendBatch = async (bodies) => {
      const call = calls++;
      if (call === 3) stop.abort();
      await new Promise((resolve) => setTimeout(resolve, call === 0 ? 30 : 1));
      sent.push(...keysOf(bodies));
      return [];
    };
    const result = await runBackfillPlan(listing(objects), send, plan({ maxInFlight: 4 }), stop.signal);
    assert.equal(result.status, 'stopped');
    assert.ok(sent.length >= 10 && sent.length < 100, `sent ${sent.length}`);
    const resumeAfter = result.resumeAfter ?? '';
    // Every key up to the resume key was sent, and resuming after it sends the rest exactly once.
    const upTo = objects.filter((o) => o.key <= resumeAfter).map((o) => o.key);
    assert.ok(upTo.every((key) => sent.includes(key)));
    const again: string[] = [];
    const resumed = await runBackfillPlan(
      listing(objects.filter((o) => o.key > resumeAfter)),
      (bodies) => {
        again.push(...keysOf(bodies));
        return Promise.resolve([]);
      },
      plan({ startAfter: resumeAfter }),
      new AbortController().signal,
    );
    assert.equal(resumed.status, 'done');
    assert.deepEqual([...sent, ...again].sort(), objects.map((o) => o.key));
  });

  test('a listing that fails reports the error with the resume key so far', async () => {
    async function* broken(): AsyncGenerator<ListedObject> {
      yield object('a.txt');
      await Promise.resolve();
      throw Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket' });
    }
    const result = await runBackfillPlan(broken(), () => Promise.resolve([]), plan(), new AbortController().signal);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.name, 'NoSuchBucket');
  });
});
