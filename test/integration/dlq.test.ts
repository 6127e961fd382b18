// `keda-indexer dlq list` and doctor's dead-letter check read the dead-letter queue without
// consuming it, against real moto.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CLI } from '../support/cli.js';
import { createQueueWithDeadLetter, queueDepth, sqs, takeDeadLetters, uniqueName, type TestQueue } from '../support/stack.js';

const text = (value: string) => ({ DataType: 'String', StringValue: value });

/** Fills the DLQ as the worker does (reason, error, time, bucket, key), plus one SQS moved itself and one malformed. */
async function fill(queue: TestQueue): Promise<void> {
  const letters: [string, string, string][] = [
    ['docs', 'big-1.pdf', 'too_large'],
    ['docs', 'big 2.pdf', 'too_large'],
    ['docs', 'scan.pdf', 'no_text'],
  ];
  for (const [i, [bucket, key, reason]] of letters.entries()) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.deadLetterUrl,
        MessageBody: JSON.stringify({ bucket, key }),
        MessageAttributes: {
          'keda-indexer.reason': text(reason),
          'keda-indexer.error': text(`${key} failed`),
          'keda-indexer.failed-at': text(`2026-01-0${i + 1}T10:00:00.000Z`),
          'keda-indexer.bucket': text(bucket),
          'keda-indexer.key': text(key),
        },
      }),
    );
  }
  // Moved by SQS after maxReceiveCount: no attributes, the file is read from the body.
  await sqs.send(new SendMessageCommand({ QueueUrl: queue.deadLetterUrl, MessageBody: JSON.stringify({ bucket: 'docs', key: 'outage.txt' }) }));
}

const run = (queue: TestQueue, ...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, SQS_QUEUE_URL: queue.queueUrl }, encoding: 'utf8' });

interface Listing {
  approximate_depth: number;
  read: number;
  not_read: number;
  by_reason: Record<string, number>;
  messages: { reason: string | null; error: string | null; failed_at: string | null; files: { bucket: string; key: string }[] }[];
}

test('dlq list shows each waiting file with reason and time, and leaves every message in the queue, visible', async () => {
  const queue = await createQueueWithDeadLetter(uniqueName('dlq-list'));
  await fill(queue);

  const listed = run(queue, 'dlq', 'list', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const listing = JSON.parse(listed.stdout) as Listing;
  assert.deepEqual(listing.by_reason, { too_large: 2, no_text: 1, '(none)': 1 });
  assert.deepEqual(
    listing.messages.map((m) => [m.reason, m.files.map((f) => `${f.bucket}/${f.key}`).join(), m.failed_at !== null]).sort(),
    [
      ['no_text', 'docs/scan.pdf', true],
      ['too_large', 'docs/big 2.pdf', true],
      ['too_large', 'docs/big-1.pdf', true],
      [null, 'docs/outage.txt', true],
    ].sort(),
  );
  // Nothing consumed, nothing left hidden: the next reader (redrive) sees all of them at once.
  assert.deepEqual(await queueDepth(queue.deadLetterUrl), { visible: 4, inFlight: 0, delayed: 0 });

  const tooLarge = run(queue, 'dlq', 'list', '--reason', 'too_large');
  assert.equal(tooLarge.status, 0, tooLarge.stderr);
  assert.match(tooLarge.stdout, /^2026-01-01T10:00:00.000Z +too_large +s3:\/\/docs\/big-1\.pdf$/m);
  assert.match(tooLarge.stdout, /^2026-01-02T10:00:00.000Z +too_large +s3:\/\/docs\/big 2\.pdf$/m);
  assert.doesNotMatch(tooLarge.stdout, /scan\.pdf|outage\.txt/);

  const capped = run(queue, 'dlq', 'list', '--max', '2');
  assert.equal(capped.status, 0, capped.stderr);
  assert.match(capped.stdout, /^2 message\(s\) read from /m);
  assert.match(capped.stdout, /^2 more not read \(--max 2\): raise --max to see them$/m);

  const bad = run(queue, 'dlq', 'list', '--reason', 'bogus');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Allowed choices are .*too_large/);

  assert.equal((await takeDeadLetters(queue.deadLetterUrl)).length, 4, 'every message is still in the dead-letter queue');
});

test('dlq list refuses a dead-letter queue with a redrive policy of its own: receiving could move its messages on', async () => {
  const name = uniqueName('dlq-chained');
  const queue = await createQueueWithDeadLetter(name);
  const further = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-further` }));
  const arn = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: further.QueueUrl, AttributeNames: ['QueueArn'] }));
  await sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: queue.deadLetterUrl,
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn.Attributes?.QueueArn, maxReceiveCount: 1 }) },
    }),
  );
  await fill(queue);
  const result = run(queue, 'dlq', 'list');
  assert.equal(result.status, 1, result.stdout);
  assert.match(result.stderr, /redrive policy of its own/);
  assert.deepEqual(await queueDepth(queue.deadLetterUrl), { visible: 4, inFlight: 0, delayed: 0 });
  assert.equal((await queueDepth(further.QueueUrl ?? '')).visible, 0, 'nothing was moved on');
});

test('doctor shows the dead-letter queue depth and its reasons, without consuming it', async () => {
  const queue = await createQueueWithDeadLetter(uniqueName('dlq-doctor'));
  await fill(queue);
  const doctor = run(queue, 'doctor');
  assert.match(doctor.stdout, /^! dead-letter queue +\S+-dlq: 4 message\(s\) waiting \(too_large 2, \(none\) 1, no_text 1\)$/m, doctor.stdout);
  assert.match(doctor.stdout, /fix: see the files with `keda-indexer dlq list`/);
  assert.deepEqual(await queueDepth(queue.deadLetterUrl), { visible: 4, inFlight: 0, delayed: 0 });

  const empty = await createQueueWithDeadLetter(uniqueName('dlq-doctor-empty'));
  assert.match(run(empty, 'doctor').stdout, /^✓ dead-letter queue +\S+-dlq \(empty\)$/m);
});
