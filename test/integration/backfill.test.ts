// `keda-indexer backfill` against moto and Elasticsearch with the real model, as an operator runs
// it: 500 objects already in a bucket (nested prefixes; keys with spaces, '+' and non-ASCII) are
// counted by a dry run, enqueued across an interrupted run and its resumption without a message
// sent twice, indexed exactly once by `worker --drain`, and skipped as unchanged by a second
// backfill (no download, no embedding, no chunk written).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChunkDocument } from '../../app/src/store/document.js';
import { recordsIndexOf } from '../../app/src/store/elasticsearch/file-records.js';
import { resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import { deleteIndexFamily } from '../support/indices.js';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  chunksByFile,
  createBucket,
  createQueueWithDeadLetter,
  es,
  putObject,
  queueDepth,
  s3,
  s3Event,
  sendBody,
  keysWithOutcome,
  logLines,
  startCli,
  takeDeadLetters,
  uniqueName,
  waitFor,
  type TestQueue,
} from '../support/stack.js';

const bucket = uniqueName('backfill-docs');
const index = uniqueName('backfill-index');
let queue: TestQueue;

const FOLDERS = ['corpus/a/', 'corpus/a/deep/er/', 'corpus/b c/', 'corpus/x+y/', 'corpus/ü 日本/'];
/** 500 documents under corpus/: 100 per folder, names with spaces, '+' and non-ASCII too. */
const DOCUMENTS = Array.from({ length: 500 }, (_, i) => {
  const folder = FOLDERS[i % FOLDERS.length] ?? '';
  const name = [`note ${i}.txt`, `n+${i}.txt`, `é-${i}.txt`, `plain-${i}.txt`][i % 4] ?? '';
  return { key: `${folder}${name}`, body: `Backfill document number ${i} lives in ${folder} and mentions topic ${i % 7}.` };
});
/** Listed but not enqueued by default: another type, and a console "folder" marker. */
const EXTRAS = [
  { key: 'corpus/a/picture.gif', body: 'not a document' },
  { key: 'corpus/empty/', body: '' },
];
/** Outside the prefix: never listed. */
const OUTSIDE = { key: 'other/outside.txt', body: 'outside the prefix' };
const corpusBytes = DOCUMENTS.reduce((sum, d) => sum + Buffer.byteLength(d.body), 0);

interface Summary {
  status: string;
  listed: number;
  enqueued: number;
  enqueuedBytes: number;
  skipped: number;
  skippedBy: Record<string, number>;
  resumeAfter: string | null;
}

const env = () => ({ SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket, ELASTICSEARCH_INDEX: index, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0', WORKER_CONCURRENCY: '8' });

/** Runs the built CLI to the end: exit code, JSON summary (--json) and everything it printed. */
async function run(args: readonly string[]): Promise<{ code: number | string; output: string; summary: Summary | undefined }> {
  const cli = startCli(args, env());
  const code = await cli.exited;
  return { code, output: cli.output(), summary: summaryIn(cli.stdout()) };
}

/** The --json summary: a line of stdout (read apart from stderr's log lines, which could cut it). */
function summaryIn(stdout: string): Summary | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('{"source"'));
  return line === undefined ? undefined : (JSON.parse(line) as Summary);
}

/** Runs `worker --drain` to the end and returns its log (stderr). */
async function drain(): Promise<string> {
  const worker = startCli(['worker', '--drain'], env());
  const code = await worker.exited;
  assert.equal(code, 0, worker.output());
  return worker.stderr();
}

/**
 * Outcomes for the keys `wanted` accepts only. SQS delivers at least once: on a loaded machine a
 * message of an earlier test came back into a later one (receiveCount 2; CI, 2026-12-02), and the
 * worker rightly found its file unchanged. Tests about particular keys count those keys' lines.
 */
const outcomesFor = (log: string, outcome: string, wanted: (key: string) => boolean) =>
  logLines(log).filter((line) => line.outcome === outcome && line.key !== undefined && wanted(line.key)).length;

describe('backfill', () => {
  before(async () => {
    queue = await createQueueWithDeadLetter(uniqueName('backfill-queue'));
    await createBucket(bucket);
    const all = [...DOCUMENTS, ...EXTRAS, OUTSIDE];
    for (let i = 0; i < all.length; i += 25) {
      await Promise.all(all.slice(i, i + 25).map((o) => putObject(bucket, o.key, o.body)));
    }
  });
  after(async () => {
    await deleteIndexFamily(es, index);
  });

  test('--dry-run counts what it would enqueue, and the filters narrow it; nothing is sent', async () => {
    const all = await run(['backfill', `s3://${bucket}/corpus/`, '--dry-run', '--json']);
    assert.equal(all.code, 0, all.output);
    assert.deepEqual(
      { listed: all.summary?.listed, enqueued: all.summary?.enqueued, bytes: all.summary?.enqueuedBytes, skippedBy: all.summary?.skippedBy },
      { listed: 502, enqueued: 500, bytes: corpusBytes, skippedBy: { folder: 1, suffix: 1, modified_before: 0, too_large: 0 } },
    );

    const gif = await run(['backfill', `s3://${bucket}/corpus/`, '--dry-run', '--json', '--suffix', '.GIF']);
    assert.equal(gif.summary?.enqueued, 1, gif.output);
    // Repeated --suffix: either ending.
    const fives = await run(['backfill', `s3://${bucket}/corpus/`, '--dry-run', '--json', '--suffix', '5.txt', '--suffix', '.gif']);
    assert.equal(fives.summary?.enqueued, DOCUMENTS.filter((d) => d.key.endsWith('5.txt')).length + 1, fives.output);
    const future = await run(['backfill', `s3://${bucket}/corpus/`, '--dry-run', '--json', '--modified-since', '2999-01-01']);
    assert.equal(future.summary?.enqueued, 0);
    // The folder marker and the .gif are skipped first, for what they are.
    assert.deepEqual(future.summary.skippedBy, { folder: 1, suffix: 1, modified_before: 500, too_large: 0 });
    const small = await run(['backfill', `s3://${bucket}/corpus/`, '--dry-run', '--json', '--max-size', '70']);
    assert.equal(small.summary?.enqueued, DOCUMENTS.filter((d) => Buffer.byteLength(d.body) <= 70).length);
    assert.ok((small.summary.skippedBy.too_large ?? 0) > 0, 'the size filter skipped nothing: pick a size between the bodies');

    const plain = await run(['backfill', `s3://${bucket}/corpus/ü 日本/`, '--dry-run']);
    assert.equal(plain.code, 0);
    assert.match(plain.output, /dry run: would enqueue 100 of 100 object\(s\) listed under s3:\/\/\S+\/corpus\/ü 日本\//);

    assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
  });

  test('an interrupted backfill prints its resume key, and the resumed run enqueues the rest, nothing twice', async () => {
    const first = startCli(['backfill', `s3://${bucket}/corpus/`, '--max-rate', '40', '--json'], env());
    await waitFor('100 messages on the queue', async () => (await queueDepth(queue.queueUrl)).visible >= 100, 120_000);
    // Frozen first, so the run cannot finish between the count above and the signal, however long
    // this process is kept off the CPU; SIGTERM waits while it is stopped and lands as it resumes.
    first.child.kill('SIGSTOP');
    first.child.kill('SIGTERM');
    first.child.kill('SIGCONT');
    assert.equal(await first.exited, 143, first.output());
    const stopped = summaryIn(first.output());
    assert.equal(stopped?.status, 'stopped');
    assert.ok(stopped.resumeAfter !== null, first.output());
    assert.match(first.output(), /stopped by SIGTERM/);
    assert.match(first.output(), /resume with the same options and --start-after /);
    assert.ok(stopped.enqueued >= 100 && stopped.enqueued < 500, `enqueued ${stopped.enqueued}`);
    // Every message of the stopped run is on the queue, and every key up to the resume key was sent.
    assert.equal((await queueDepth(queue.queueUrl)).visible, stopped.enqueued);

    const resumed = await run(['backfill', `s3://${bucket}/corpus/`, '--start-after', stopped.resumeAfter, '--json']);
    assert.equal(resumed.code, 0, resumed.output);
    assert.equal(resumed.summary?.status, 'done');
    assert.equal(resumed.summary.resumeAfter, null);
    assert.equal(stopped.enqueued + resumed.summary.enqueued, 500);
    // Exactly 500 messages: with the worker's count of distinct files below, none was sent twice.
    assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 500, inFlight: 0, delayed: 0 });
  });

  test('the worker indexes every enqueued object exactly once', async () => {
    const output = await drain();
    // Which files, not how many lines: a message redelivered on a loaded machine logs its file twice
    // (at least once is SQS's promise). That none was sent twice the queue's count of 500 showed.
    assert.deepEqual(keysWithOutcome(output, 'indexed'), DOCUMENTS.map((d) => d.key).sort(), output.slice(-3000));
    const byFile = await chunksByFile(index);
    assert.deepEqual([...byFile.keys()].sort(), DOCUMENTS.map((d) => `s3://${bucket}/${d.key}`).sort());
    for (const [file, chunks] of byFile) assert.deepEqual(chunks.map((c) => c.split_id), [0], `${file}: ${chunks.length} chunks`);
    // The records live beside the physical index the alias points at.
    const resolved = await resolveIndex(es, index);
    assert.equal(resolved.kind, 'alias');
    const records = recordsIndexOf(resolved.index);
    await es.indices.refresh({ index: records });
    assert.equal((await es.count({ index: records })).count, 500);
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
  });

  test('a second backfill re-embeds nothing: every object is acknowledged as unchanged', async () => {
    const before = await indexedAt();
    const again = await run(['backfill', `s3://${bucket}/corpus/`, '--json']);
    assert.equal(again.summary?.enqueued, 500, again.output);
    const output = await drain();
    assert.deepEqual(keysWithOutcome(output, 'unchanged'), DOCUMENTS.map((d) => d.key).sort(), output.slice(-3000));
    assert.deepEqual(keysWithOutcome(output, 'indexed'), []);
    assert.deepEqual(await indexedAt(), before, 'a chunk was written again');
  });

  test('a duplicate S3 notification of an indexed object is free; one of a new version is indexed', async () => {
    const document = DOCUMENTS[3] ?? assert.fail();
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: document.key }));
    const eTag = (head.ETag ?? '').replace(/"/g, '');
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, document.key, { eTag, size: 1 }));
    let output = await drain();
    assert.equal(outcomesFor(output, 'unchanged', (key) => key === document.key), 1, output);
    assert.equal(outcomesFor(output, 'indexed', (key) => key === document.key), 0, output);
    // A notification with another ETag is another version: indexed, whatever the record says.
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, document.key, { eTag: '0123456789abcdef0123456789abcdef', size: 1 }));
    output = await drain();
    assert.equal(outcomesFor(output, 'indexed', (key) => key === document.key), 1, output);
  });

  test('--force re-indexes unchanged objects', async () => {
    const forced = await run(['backfill', `s3://${bucket}/corpus/x+y/`, '--force', '--json']);
    assert.equal(forced.summary?.enqueued, 100, forced.output);
    const output = await drain();
    assert.equal(outcomesFor(output, 'indexed', (key) => key.startsWith('corpus/x+y/')), 100, output.slice(-3000));
    assert.equal(outcomesFor(output, 'unchanged', (key) => key.startsWith('corpus/x+y/')), 0, output.slice(-3000));
    assert.equal((await chunksByFile(index)).size, 500);
  });

  test('an unknown bucket fails with exit 1 and says what is wrong', async () => {
    const missing = await run(['backfill', `s3://${uniqueName('no-such-bucket')}/`]);
    assert.equal(missing.code, 1, missing.output);
    assert.match(missing.output, /does not exist \(check the s3:\/\/ URL and AWS_REGION\)/);
  });
});

/** indexed_at of every chunk, by id: changes only when the chunk is written again. */
async function indexedAt(): Promise<Map<string, string>> {
  await es.indices.refresh({ index });
  const result = await es.search<ChunkDocument>({ index, size: 10_000, _source: ['indexed_at'], query: { match_all: {} } });
  return new Map(result.hits.hits.map((hit) => [hit._id ?? '', hit._source?.indexed_at ?? '']));
}
