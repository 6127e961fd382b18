// `keda-indexer redrive` moves dead-lettered messages back, all or by reason, with their bodies.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_REASONS } from '../../app/src/failure.js';
import { CLI } from '../support/cli.js';
import { createQueueWithDeadLetter, queueDepth, sqs, takeDeadLetters, uniqueName } from '../support/stack.js';

test('redrive by reason moves only those messages, with their original bodies', async () => {
  const queue = await createQueueWithDeadLetter(uniqueName('redrive'));
  const letters: [string, string][] = [
    ['{"bucket":"b","key":"big-1.pdf"}', 'too_large'],
    ['{"bucket":"b","key":"big-2.pdf"}', 'too_large'],
    ['{"bucket":"b","key":"scan.pdf"}', 'no_text'],
  ];
  for (const [body, reason] of letters) {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.deadLetterUrl,
        MessageBody: body,
        MessageAttributes: { 'keda-indexer.reason': { DataType: 'String', StringValue: reason } },
      }),
    );
  }
  const run = (...args: string[]) => spawnSync(process.execPath, [CLI, 'redrive', ...args], { env: { ...process.env, SQS_QUEUE_URL: queue.queueUrl }, encoding: 'utf8' });

  const dry = run('--reason', 'too_large', '--dry-run');
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /would move 2 message\(s\) \(too_large 2\)/);
  assert.equal((await queueDepth(queue.queueUrl)).visible, 0, 'a dry run moves nothing');

  const real = run('--reason', 'too_large');
  assert.equal(real.status, 0, real.stderr);
  assert.match(real.stdout, /moved 2 message\(s\) \(too_large 2\).*1 left/);
  const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  assert.deepEqual((back.Messages ?? []).map((m) => m.Body).sort(), [letters[0]?.[0], letters[1]?.[0]].sort());
  assert.deepEqual((await takeDeadLetters(queue.deadLetterUrl)).map((l) => l.reason), ['no_text']);
});

test('redrive --reason outside the documented set is a usage error listing the valid reasons, and moves nothing', async () => {
  const queue = await createQueueWithDeadLetter(uniqueName('redrive-bad-reason'));
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queue.deadLetterUrl,
      MessageBody: '{"bucket":"b","key":"big.pdf"}',
      MessageAttributes: { 'keda-indexer.reason': { DataType: 'String', StringValue: 'too_large' } },
    }),
  );
  const result = spawnSync(process.execPath, [CLI, 'redrive', '--reason', 'too-large'], { env: { ...process.env, SQS_QUEUE_URL: queue.queueUrl }, encoding: 'utf8' });
  assert.equal(result.status, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /--reason/);
  for (const reason of DEAD_LETTER_REASONS) assert.match(result.stderr, new RegExp(`\\b${reason}\\b`), `${reason} not listed`);
  assert.doesNotMatch(result.stdout, /moved/);
  assert.deepEqual((await takeDeadLetters(queue.deadLetterUrl)).map((l) => l.reason), ['too_large']);
});
