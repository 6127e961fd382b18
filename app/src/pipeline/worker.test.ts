// The receive loop in-process, against a queue stub (no SQS): what a long-lived worker keeps
// between messages.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../config/config.js';
import { silentLogger } from '../observe/logger.js';
import { createMetrics } from '../observe/metrics.js';
import type { QueueMessage, SqsQueue } from '../source/sqs.js';
import type { FileIndexer } from './index-file.js';
import { Worker } from './worker.js';

/** A dependency the test's messages never reach (S3 test events need no download and no index). */
const unused: unknown = new Proxy({}, { get: (_, name) => assert.fail(`unexpected use of ${String(name)}`) });

test('10,000 waits at capacity leave at most one abort listener on the stop signal', async () => {
  const settings = loadConfig({ env: { WORKER_CONCURRENCY: '1' } });
  let handedOut = 0;
  let acked = 0;
  // One S3 test event per receive (acknowledged and ignored), then an empty queue: with room
  // for one message in flight, the loop waits for a slot after every receive.
  const queue = {
    receive: () => {
      if (handedOut === 10_000) return Promise.resolve([]);
      handedOut++;
      const message: QueueMessage = { messageId: `m${handedOut}`, receiptHandle: `r${handedOut}`, body: '{"Event":"s3:TestEvent"}', receiveCount: 1 };
      return Promise.resolve([message]);
    },
    ack: () => {
      acked++;
      return Promise.resolve();
    },
    setVisibility: () => Promise.resolve(),
  } as unknown as SqsQueue;
  const worker = new Worker(queue, unused as S3Client, unused as FileIndexer, settings, silentLogger(), createMetrics({ defaultMetrics: false }));
  await worker.run({ drain: true });
  assert.equal(acked, 10_000);
  // The signal is the worker's own; reading it is the only way to count what was left on it.
  const { signal } = (worker as unknown as { stopController: AbortController }).stopController;
  assert.ok(getEventListeners(signal, 'abort').length <= 1, `${getEventListeners(signal, 'abort').length} abort listeners left`);
});
