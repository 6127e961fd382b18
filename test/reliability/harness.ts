// Running the reliability scenarios: a fresh queue (with dead-letter queue), bucket and index per
// scenario, worker processes started and killed as the scenario says, and a wait until the queue
// has settled.
import { readdirSync, readFileSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ensureBucket, ensureNotification, ensureQueues } from '../../app/src/setup/aws-resources.js';
import { es, queueDepth, s3, sendBody, settings, sqs, startCli, uniqueName, type RunningCli } from '../support/stack.js';
import type { CorpusFile } from './corpus.js';
import { deleteIndexFamily } from '../support/indices.js';

export interface Scenario {
  readonly name: string;
  readonly bucket: string;
  readonly index: string;
  readonly queueUrl: string;
  readonly deadLetterUrl: string;
  readonly workerEnv: Record<string, string>;
}

/**
 * maxReceiveCount is set high on purpose: these scenarios keep dependencies down for a minute,
 * and a message the redrive policy moved would reach the DLQ without a reason. How many receives
 * an outage costs follows from SQS_RETRY_* (docs/operations.md).
 */
export async function createScenario(name: string, options: { notify: boolean; readTags?: boolean; env?: Record<string, string> }): Promise<Scenario> {
  const bucket = uniqueName(`rel-${name}`);
  const index = uniqueName(`rel-${name}`);
  const queueName = uniqueName(`rel-${name}`);
  const queues = await ensureQueues(sqs, { name: queueName, visibilityTimeoutSeconds: 10, maxReceiveCount: 100, bucket });
  await ensureBucket(s3, bucket, settings.aws.region);
  if (options.notify) await ensureNotification(s3, bucket, { queueName, queueArn: queues.queueArn, prefix: '', readTags: options.readTags === true });
  return {
    name,
    bucket,
    index,
    queueUrl: queues.queueUrl,
    deadLetterUrl: queues.deadLetterUrl,
    workerEnv: {
      SQS_QUEUE_URL: queues.queueUrl,
      S3_ALLOWED_BUCKETS: bucket,
      ELASTICSEARCH_INDEX: index,
      SQS_WAIT_TIME_SECONDS: '2',
      SQS_VISIBILITY_TIMEOUT_SECONDS: '10',
      SQS_RETRY_BASE_SECONDS: '1',
      SQS_RETRY_MAX_SECONDS: '4',
      WORKER_DRAIN_DEADLINE_SECONDS: '5',
      HTTP_PORT: '0',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
  };
}

export async function dropScenario(scenario: Scenario): Promise<void> {
  await deleteIndexFamily(es, scenario.index);
}

/** Uploads files, a few at a time. */
export async function upload(scenario: Scenario, files: readonly CorpusFile[], parallel = 8, options: { maxBacklog?: number } = {}): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < files.length) {
        const position = next++;
        const file = files[position];
        if (options.maxBacklog !== undefined && position % 10 === 0) await backlogBelow(scenario, options.maxBacklog);
        if (file) await s3.send(new PutObjectCommand({ Bucket: scenario.bucket, Key: file.key, Body: file.body }));
      }
    }),
  );
}

/**
 * Waits until fewer than `limit` messages wait in the queue. moto scans every message of a queue
 * on each receive and attribute read (about 0.24 s of its CPU per receive at 1,500 waiting
 * messages, 0.07 s at 500), so a queue thousands deep measures moto, not the worker.
 */
async function backlogBelow(scenario: Scenario, limit: number): Promise<void> {
  while ((await queueDepth(scenario.queueUrl)).visible >= limit) await sleep(1000);
}

/** Sends a {"bucket","key"} message per file (for buckets without a notification). */
export async function enqueue(scenario: Scenario, keys: readonly string[]): Promise<void> {
  for (const key of keys) await sendBody(scenario.queueUrl, JSON.stringify({ bucket: scenario.bucket, key }));
}

export function startWorker(scenario: Scenario, extra: Record<string, string> = {}): RunningCli {
  return startCli(['worker'], { ...scenario.workerEnv, ...extra });
}

/** Peak resident memory of a process so far (VmHWM), in MB; undefined once it has exited. */
export function peakRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/**
 * Resident memory of a process and all its descendants (the worker with its converter
 * processes: what a pod's memory limit counts), in MB; undefined once the process has exited.
 */
export function treeRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent pid is the 4th field, after the command name in parentheses (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const own = rssMb(pid);
  if (own === undefined) return undefined;
  let total = own;
  const queue = [...(children.get(pid) ?? [])];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    total += rssMb(next) ?? 0;
    queue.push(...(children.get(next) ?? []));
  }
  return total;
}

/** Current resident memory of a process, in MB. */
export function rssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the queue has been empty (nothing visible, in flight or delayed) for `quietMs`. */
export async function settle(scenario: Scenario, timeoutMs: number, quietMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let emptySince: number | undefined;
  while (Date.now() < deadline) {
    let depth;
    try {
      depth = await queueDepth(scenario.queueUrl);
    } catch {
      depth = undefined; // the emulator may be the thing that is down
    }
    const empty = depth !== undefined && depth.visible + depth.inFlight + depth.delayed === 0;
    if (empty) {
      emptySince ??= Date.now();
      if (Date.now() - emptySince >= quietMs) return;
    } else {
      emptySince = undefined;
    }
    await sleep(1000); // each attribute read costs moto a scan of the whole queue
  }
  throw new Error(`[${scenario.name}] queue did not settle within ${timeoutMs} ms`);
}

export async function stopWorker(worker: RunningCli): Promise<number | string> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  return worker.exited;
}
