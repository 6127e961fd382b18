// Helpers for tests against the real dev stack (moto for SQS and S3, Elasticsearch): clients
// from the same environment the worker reads, unique resource names per test run, and a way to
// run the built CLI as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Client } from '@elastic/elasticsearch';
import { createS3Client, createSqsClient } from '../../app/src/aws.js';
import { loadConfig } from '../../app/src/config/config.js';
import { createElasticsearchClient } from '../../app/src/store/elasticsearch/chunks.js';
import type { ChunkDocument } from '../../app/src/store/document.js';
import { CLI } from './cli.js';

export const settings = loadConfig();
export const s3: S3Client = createS3Client(settings.aws);
export const sqs: SQSClient = createSqsClient(settings.aws);
export const es: Client = createElasticsearchClient(settings.elasticsearch);

export { CLI } from './cli.js';

let counter = 0;
/** A name unique to this process and call, valid for buckets, queues and indices. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

export interface TestQueue {
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
}

/** A queue whose RedrivePolicy names a dead-letter queue, as `bootstrap` makes them. */
export async function createQueueWithDeadLetter(name: string, maxReceiveCount = 5): Promise<TestQueue> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const deadLetterUrl = dlq.QueueUrl ?? '';
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterUrl, AttributeNames: ['QueueArn'] }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attributes.Attributes?.QueueArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl ?? '', deadLetterUrl };
}

export async function createBucket(name: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: name }));
}

export async function putObject(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export async function deleteObject(bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

export async function sendBody(queueUrl: string, body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

/** An S3 event notification as S3 sends it: key form-encoded ('+' for space), eTag unquoted. */
export function s3Event(eventName: string, bucket: string, key: string, object: { eTag?: string; size?: number } = {}): string {
  const encodedKey = encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
  return JSON.stringify({
    Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName, s3: { bucket: { name: bucket }, object: { key: encodedKey, ...object } } }],
  });
}

export interface DeadLetter {
  readonly body: string;
  readonly reason: string;
  readonly error: string;
}

/** Drains the dead-letter queue and returns what it held. */
export async function takeDeadLetters(deadLetterUrl: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (;;) {
    const response = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    const messages = response.Messages ?? [];
    if (messages.length === 0) return letters;
    for (const message of messages) {
      letters.push({
        body: message.Body ?? '',
        reason: message.MessageAttributes?.['keda-indexer.reason']?.StringValue ?? '',
        error: message.MessageAttributes?.['keda-indexer.error']?.StringValue ?? '',
      });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
}

export async function queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const response = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const a = response.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** Chunks in the index per file_path, sorted by split_id. */
export async function chunksByFile(index: string): Promise<Map<string, ChunkDocument[]>> {
  await es.indices.refresh({ index });
  const result = await es.search<ChunkDocument>({ index, size: 10_000, query: { match_all: {} }, sort: [{ split_id: 'asc' }] });
  const byFile = new Map<string, ChunkDocument[]>();
  for (const hit of result.hits.hits) {
    const doc = hit._source;
    if (doc === undefined) continue;
    const list = byFile.get(doc.file_path) ?? [];
    list.push(doc);
    byFile.set(doc.file_path, list);
  }
  return byFile;
}

export interface RunningCli {
  readonly child: ChildProcess;
  /** Everything printed so far: stdout, then stderr (each kept whole; never interleaved chunk by chunk). */
  readonly output: () => string;
  /** What the command printed on stdout (its results). */
  readonly stdout: () => string;
  /** What it printed on stderr (the JSON log lines). */
  readonly stderr: () => string;
  /**
   * Resolves with the exit code (or the signal name) once the process has exited AND its stdout
   * and stderr are read to the end ('close', not 'exit': at 'exit' the last lines may still be in
   * the pipes, so output read then can lack what the process wrote just before it ended).
   */
  readonly exited: Promise<number | string>;
}

/** Starts the built CLI with the dev-stack environment plus `env`. */
export function startCli(args: readonly string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Two buffers: one chunk of a stream can end mid-line, and a chunk of the other stream appended
  // there would cut that line in two.
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const exited = once(child, 'close').then(([code, signal]) => (code ?? String(signal)) as number | string);
  return { child, output: () => stdout + stderr, stdout: () => stdout, stderr: () => stderr, exited };
}

/** One JSON log line of the worker (pino): the fields tests read. */
export interface LogLine {
  readonly msg?: string;
  readonly outcome?: string;
  readonly key?: string;
  readonly bucket?: string;
  readonly reason?: string;
  readonly [field: string]: unknown;
}

/** The JSON log lines in `text` (a process's stderr); a line that is not whole JSON fails loudly. */
export function logLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`not a whole JSON log line: ${line.slice(0, 300)}`);
      }
    });
}

/**
 * The keys that reached `outcome`, as a sorted set. SQS delivers at least once, so a file's line
 * can appear twice (a message redelivered on a loaded machine); tests compare which files, not
 * how many lines.
 */
export function keysWithOutcome(text: string, outcome: string): string[] {
  return [...new Set(logLines(text).flatMap((line) => (line.outcome === outcome && typeof line.key === 'string' ? [line.key] : [])))].sort();
}

/**
 * Waits until `predicate` holds, polling every `intervalMs`; fails with `what` after `timeoutMs`.
 * The deadline only bounds a hang: pick it generous for a loaded 2-core machine, and decide from the
 * condition itself, never from the time it took.
 */
export async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * A TCP port free now, for a child process to listen on a moment later. Taken below the kernel's
 * ephemeral range (net.ipv4.ip_local_port_range), where outgoing connections get their ports: a
 * port from listen(0) comes from that range, and in the time between its release and the child's
 * listen an outgoing connection of this busy host may take it.
 */
export async function freePort(): Promise<number> {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: the usual default
  }
  const bottom = Math.min(20_000, Math.floor(low / 2));
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = bottom + Math.floor(Math.random() * (low - bottom));
    const server = createServer();
    try {
      server.listen(port); // all interfaces, as the worker's health server listens
      await once(server, 'listening');
      await new Promise((resolve) => server.close(resolve));
      return port;
    } catch {
      server.close();
    }
  }
  throw new Error(`no free port found between ${bottom} and ${low}`);
}

/**
 * Keys of the S3 event records that reach `queueUrl` within `ms` (each message deleted as read);
 * messages without records, such as S3's test event, are skipped, and so are ObjectTagging
 * records: moto sends an s3:ObjectTagging:Put after every PutObject (AWS does not), so each upload
 * would count twice.
 */
export async function receivedKeys(queueUrl: string, ms = 3000): Promise<string[]> {
  const keys: string[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const response = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const message of response.Messages ?? []) {
      const body = JSON.parse(message.Body ?? '{}') as { Records?: { eventName?: string; s3: { object: { key: string } } }[] };
      // moto form-encodes keys, '/' included.
      for (const record of body.Records ?? []) if (!(record.eventName ?? '').startsWith('ObjectTagging:')) keys.push(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' ')));
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return keys.sort();
}
