// The worker reads only what S3_ALLOWED_BUCKETS allows (issue #27, part 3), against real moto,
// Elasticsearch and the model: a message naming another bucket, or a key outside the allowed
// prefix, is dead-lettered as forbidden_bucket with nothing read or written, and counted in
// /metrics; an invalid bucket name and a message of 11 records are malformed_message; the
// allowed file beside them is indexed.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { deleteIndexFamily } from '../support/indices.js';
import {
  chunksByFile,
  createBucket,
  createQueueWithDeadLetter,
  es,
  freePort,
  putObject,
  queueDepth,
  s3Event,
  sendBody,
  startCli,
  takeDeadLetters,
  uniqueName,
  waitFor,
} from '../support/stack.js';

const allowed = uniqueName('allowed-docs');
const other = uniqueName('other-docs');
const index = uniqueName('forbidden-index');

after(async () => {
  await deleteIndexFamily(es, index);
});

test('a message naming a bucket or prefix outside S3_ALLOWED_BUCKETS is dead-lettered as forbidden_bucket, unread, and counted', async () => {
  const queue = await createQueueWithDeadLetter(uniqueName('forbidden-q'));
  await createBucket(allowed);
  await createBucket(other);
  // Both objects exist and the worker's credentials could read them: only the allow list stops it.
  await putObject(allowed, 'public/glaciers.txt', 'Glaciers carve valleys as they creep downhill under their own weight.');
  await putObject(allowed, 'private/salaries.txt', 'PRIVATE-SALARY-TABLE should never reach the index.');
  await putObject(other, 'payload.txt', 'ATTACKER-PAYLOAD planted in the shared index.');

  await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', allowed, 'public/glaciers.txt'));
  await sendBody(queue.queueUrl, JSON.stringify({ bucket: other, key: 'payload.txt' }));
  await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', allowed, 'private/salaries.txt'));
  await sendBody(queue.queueUrl, JSON.stringify({ bucket: 'bad/bucket', key: 'x.txt' }));
  const eleven = Array.from({ length: 11 }, (_, i) => (JSON.parse(s3Event('ObjectCreated:Put', allowed, `public/${i}.txt`)) as { Records: unknown[] }).Records[0]);
  await sendBody(queue.queueUrl, JSON.stringify({ Records: eleven }));

  const port = await freePort();
  const worker = startCli(['worker'], {
    SQS_QUEUE_URL: queue.queueUrl,
    S3_BUCKET: allowed,
    S3_ALLOWED_BUCKETS: `${allowed}/public/`,
    ELASTICSEARCH_INDEX: index,
    SQS_WAIT_TIME_SECONDS: '1',
    HTTP_PORT: String(port),
  });
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => ''));
  try {
    await waitFor(
      'one file indexed, two forbidden and two malformed messages counted',
      async () => {
        const text = await metrics();
        return (
          /^keda_indexer_files_indexed_total 1$/m.test(text) &&
          /^keda_indexer_dead_lettered_total\{reason="forbidden_bucket"\} 2$/m.test(text) &&
          /^keda_indexer_dead_lettered_total\{reason="malformed_message"\} 2$/m.test(text) &&
          /^keda_indexer_in_flight_messages 0$/m.test(text)
        );
      },
      180_000,
    );
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
  } finally {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  }

  assert.match(worker.stderr(), new RegExp(`"allowedBuckets":"${allowed}/public/"[^\\n]*"msg":"worker ready"`));
  assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
  const letters = await takeDeadLetters(queue.deadLetterUrl);
  const byReason = (reason: string) => letters.filter((letter) => letter.reason === reason).map((letter) => letter.error).sort();
  const forbidden = byReason('forbidden_bucket');
  assert.equal(forbidden.length, 2, JSON.stringify(letters));
  assert.ok(forbidden.some((error) => error.includes(`s3://${other}/payload.txt is outside`)), forbidden.join('\n'));
  assert.ok(forbidden.some((error) => error.includes(`s3://${allowed}/private/salaries.txt is outside`)), forbidden.join('\n'));
  const malformed = byReason('malformed_message');
  assert.equal(malformed.length, 2, JSON.stringify(letters));
  assert.ok(malformed.some((error) => /not a valid S3 bucket name/.test(error)), malformed.join('\n'));
  assert.ok(malformed.some((error) => /11 Records; at most 10/.test(error)), malformed.join('\n'));

  // Only the allowed file reached the index; nothing of the forbidden objects did.
  const byFile = await chunksByFile(index);
  assert.deepEqual([...byFile.keys()], [`s3://${allowed}/public/glaciers.txt`]);
  // Nothing was fetched for the forbidden ones: no "indexed", "removed" or fetch-error line names them.
  const lines = worker.stderr().split('\n').filter((line) => line.includes('payload.txt') || line.includes('salaries.txt'));
  assert.ok(lines.length === 2 && lines.every((line) => line.includes('"outcome":"dead-lettered"') && line.includes('"reason":"forbidden_bucket"')), lines.join('\n'));
});

test('a worker with neither S3_ALLOWED_BUCKETS nor S3_BUCKET does not start, and says what to set', async () => {
  const worker = startCli(['worker'], { SQS_QUEUE_URL: 'http://127.0.0.1:1/000000000000/none', S3_BUCKET: '', S3_ALLOWED_BUCKETS: '', HTTP_PORT: '0' });
  assert.equal(await worker.exited, 2);
  assert.match(worker.stderr(), /S3_ALLOWED_BUCKETS and S3_BUCKET are both empty.*Set S3_BUCKET/);
});
