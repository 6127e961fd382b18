// The SDK's warnings reach the worker's JSON log, once each, and not the console.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createSqsClient } from './aws.js';
import { createLogger } from './observe/logger.js';

test("a queue URL on another host than the client's endpoint: one JSON warning line, nothing on the console", async (t) => {
  // A port that answers every connection with a close: the calls fail fast, after the warning.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  for (const [name, value] of Object.entries({ AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' })) {
    const before = process.env[name];
    process.env[name] = value;
    t.after(() => (before === undefined ? Reflect.deleteProperty(process.env, name) : (process.env[name] = before)));
  }
  const consoleWarnings: unknown[][] = [];
  t.mock.method(console, 'warn', (...args: unknown[]) => void consoleWarnings.push(args));

  const destination = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  destination.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  // No endpoint: the client resolves the real regional one, and the queue URL points elsewhere.
  const sqs = createSqsClient({ region: 'us-east-1', endpoint: '', s3ForcePathStyle: false }, createLogger({ level: 'info', destination }));
  assert.ok(!sqs.middlewareStack.identify().some((name) => name.startsWith('loggerMiddleware')), 'the per-call logging middleware is removed');
  const queueUrl = `http://127.0.0.1:${port}/123456789012/elsewhere`;
  for (let call = 0; call < 2; call++) {
    await assert.rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })));
  }
  sqs.destroy();
  await new Promise((resolve) => setImmediate(resolve));

  assert.deepEqual(consoleWarnings, []);
  const warnings = lines.filter((line) => line.source === 'aws-sdk');
  assert.equal(warnings.length, 1, `one line for the repeated warning: ${JSON.stringify(lines)}`);
  const [warning] = warnings;
  assert.ok(warning);
  assert.equal(warning.level, 40);
  assert.match(String(warning.msg), /QueueUrl=http:\/\/127\.0\.0\.1:\d+\/123456789012\/elsewhere differs from SQSClient resolved endpoint/);
  assert.equal(lines.length, 1, 'the SDK logs no call input or output');
});
