// The file handler's verdicts on messages that name no file: they need no download and no index
// (the ones that do are covered against moto and Elasticsearch in test/integration/worker.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../config/config.js';
import type { QueueMessage } from '../consumer/queue.js';
import { silentLogger } from '../observe/logger.js';
import { createMetrics } from '../observe/metrics.js';
import { FileHandler } from './file-handler.js';
import type { FileIndexer } from './index-file.js';

/** A dependency these messages never reach. */
const unused: unknown = new Proxy({}, { get: (_, name) => assert.fail(`unexpected use of ${String(name)}`) });

const handler = new FileHandler(unused as S3Client, unused as FileIndexer, loadConfig({ env: {} }), createMetrics({ defaultMetrics: false }));
const messageOf = (body: string): QueueMessage => ({ messageId: 'm1', receiptHandle: 'r1', body, receiveCount: 1 });

test('an S3 test event is acknowledged', async () => {
  assert.deepEqual(await handler.handle(messageOf('{"Event":"s3:TestEvent"}'), { log: silentLogger() }), { kind: 'ack' });
});

test('a body that is not a file event is dead-lettered as malformed_message, naming no file', async () => {
  const verdict = await handler.handle(messageOf('not json'), { log: silentLogger() });
  assert.equal(verdict.kind, 'deadLetter');
  assert.equal(verdict.details.reason, 'malformed_message');
  assert.equal(verdict.details.bucket, undefined);
  assert.ok(verdict.details.error.length > 0);
});
