// End-to-end and cold-start measurements of the real worker process (`node dist/cli.js worker`)
// against the dev stack: moto for SQS and S3, Elasticsearch on 127.0.0.1.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { createS3Client, createSqsClient } from '../../app/src/aws.js';
import { loadConfig } from '../../app/src/config/config.js';
import { createElasticsearchClient } from '../../app/src/store/elasticsearch/chunks.js';
import { makeDocx, makePdf } from '../../test/fixtures/documents.js';
import type { Document } from './corpus.js';
import { deleteIndexFamily } from '../../test/support/indices.js';

export const settings = loadConfig();
const s3 = createS3Client(settings.aws);
const sqs = createSqsClient(settings.aws);

export interface BenchFile {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly format: 'md' | 'txt' | 'html' | 'pdf' | 'docx';
}

const FORMATS = ['md', 'txt', 'html', 'pdf', 'md', 'docx', 'txt', 'pdf'] as const;
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The same prose as files of every supported format, rotating formats over documents. */
export async function makeFiles(documents: readonly Document[]): Promise<BenchFile[]> {
  const files: BenchFile[] = [];
  for (const [i, document] of documents.entries()) {
    const format = FORMATS[i % FORMATS.length]!;
    const title = document.name;
    const { paragraphs } = document;
    let bytes: Uint8Array;
    if (format === 'md') bytes = Buffer.from(`# ${title}\n\n${paragraphs.join('\n\n')}\n`);
    else if (format === 'txt') bytes = Buffer.from(`${paragraphs.join('\n\n')}\n`);
    else if (format === 'html')
      bytes = Buffer.from(
        `<!doctype html><html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>\n` +
          paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('\n') +
          '\n</body></html>\n',
      );
    else if (format === 'pdf') bytes = await makePdf(pagesOf(paragraphs, 6), { title });
    else bytes = await makeDocx([{ heading: title, paragraphs }]);
    files.push({ key: `bench/${String(i).padStart(4, '0')}-${title}.${format}`, bytes, format });
  }
  return files;
}

export function pagesOf(paragraphs: readonly string[], perPage: number): string[] {
  const pages: string[] = [];
  for (let i = 0; i < paragraphs.length; i += perPage) pages.push(paragraphs.slice(i, i + perPage).join('\n\n'));
  return pages;
}

export async function createBucket(bucket: string, files: readonly BenchFile[]): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const file of files) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: file.bytes }));
}

export async function createQueue(name: string): Promise<string> {
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return queue.QueueUrl ?? '';
}

export async function deleteQueue(url: string): Promise<void> {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
}

/** One S3 ObjectCreated notification per file, as S3 would send them. */
export async function enqueue(queueUrl: string, bucket: string, files: readonly BenchFile[]): Promise<void> {
  for (let i = 0; i < files.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: files.slice(i, i + 10).map((file, j) => ({
          Id: String(j),
          MessageBody: JSON.stringify({
            Records: [
              {
                eventVersion: '2.1',
                eventSource: 'aws:s3',
                eventName: 'ObjectCreated:Put',
                s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(file.key).replace(/%2F/g, '/'), size: file.bytes.length } },
              },
            ],
          }),
        })),
      }),
    );
  }
}

/** The dev stack's Elasticsearch and moto processes (pid files under .dev-stack), to watch their CPU. */
export function devStackPids(root: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const [name, file] of [
    ['elasticsearch', '.dev-stack/es/run/elasticsearch.pid'],
    ['moto', '.dev-stack/moto/moto.pid'],
  ] as const) {
    try {
      const pid = Number(readFileSync(path.join(root, file), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids[name] = pid;
    } catch {
      // not running from this checkout's dev stack: its CPU is then counted only in the machine's
    }
  }
  return pids;
}

/** The C allocator settings the image runs with (`ENV MALLOC_*=` lines of the Dockerfile). */
export function imageAllocatorEnv(root: string): Record<string, string> {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  return Object.fromEntries([...dockerfile.matchAll(/^ENV (MALLOC_\w+)=(\S+)\s*$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The image's compile cache for a build, made as the Dockerfile makes it (scripts/compile-cache.js)
 * with the image's Node: the environment under which a run on that Node reads it. Empty when the
 * Dockerfile sets no NODE_COMPILE_CACHE.
 */
export function imageCompileCacheEnv(root: string, node: string, appDir: string): Record<string, string> {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  if (!/^ENV NODE_COMPILE_CACHE=/m.test(dockerfile)) return {};
  const cacheDir = path.join(appDir, 'compile-cache');
  rmSync(cacheDir, { recursive: true, force: true });
  execFileSync(node, [path.join(root, 'scripts', 'compile-cache.js'), appDir, cacheDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { NODE_COMPILE_CACHE: cacheDir };
}

/** Deletes an index the worker wrote through ELASTICSEARCH_INDEX: its alias's physical indices and records too. */
export async function deleteIndex(index: string): Promise<void> {
  const es = createElasticsearchClient(settings.elasticsearch);
  await deleteIndexFamily(es, index).catch(() => undefined);
  await es.close();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

interface LogLine {
  readonly msg?: string;
  readonly time?: number;
  readonly chunks?: number;
  readonly tokens?: number;
  readonly startupSeconds?: number;
  readonly outcome?: string;
  readonly seconds?: Record<string, number>;
  readonly level?: number;
}

export interface WorkerRun {
  /** Epoch ms of the spawn. */
  readonly spawnedAt: number;
  readonly lines: (LogLine & { seenAt: number })[];
  readonly readyAt?: number;
  /** RSS samples in MB with their epoch ms. */
  readonly rss: { at: number; mb: number }[];
  /**
   * CPU seconds (user + system, all threads) used so far, sampled with the RSS: the worker as
   * `worker`, each watched process under its name, and the whole machine's busy time as `machine`.
   */
  readonly cpu: Record<string, { at: number; seconds: number }[]>;
  readonly peakMb: number;
  readonly exitCode: number | null;
  /** /metrics as scraped when the worker logged 'worker ready', and when `until` was met (metricsPort). */
  readonly metricsAtReady?: string;
  readonly metricsAtEnd?: string;
}

export interface WorkerOptions {
  readonly cli: string;
  /** The node binary to run it with; this process's own by default. */
  readonly node?: string;
  readonly env: Record<string, string>;
  readonly drain: boolean;
  /** Resolves true when the run has seen what it needs; the worker is then stopped with SIGTERM. */
  readonly until?: (run: WorkerRun) => boolean;
  readonly pollReadyz?: number;
  readonly timeoutMs: number;
  /** Other processes whose CPU time to sample alongside the worker's (name → pid). */
  readonly watch?: Record<string, number>;
  /** Runs the worker pinned to these cores (a taskset list). */
  readonly cpus?: string;
  /** Rewrites the worker's command before any pinning, e.g. to start it in a memory cgroup. */
  readonly wrap?: (command: readonly string[]) => string[];
  /** The worker's HTTP_PORT: /metrics is then scraped at 'worker ready' and before the stop. */
  readonly metricsPort?: number;
}

function readProc(pid: number): { rssMb: number; hwmMb: number; cpuSeconds: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    const hwm = /VmHWM:\s+(\d+)/.exec(status)?.[1];
    const cpuSeconds = processCpuSeconds(pid);
    // An exiting process's status lacks the memory lines: no sample, rather than NaN for good.
    if (cpuSeconds === undefined || rss === undefined || hwm === undefined) return undefined;
    return { rssMb: Number(rss) / 1024, hwmMb: Number(hwm) / 1024, cpuSeconds };
  } catch {
    return undefined;
  }
}

/** CPU seconds every core of the machine has spent busy so far (all but idle and iowait, /proc/stat). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const values = ticks.map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  return (total - (values[3] ?? 0) - (values[4] ?? 0)) / USER_HZ;
}

/** CPU seconds used between two instants, from cumulative samples (nearest sample to each). */
export function cpuBetween(samples: readonly { at: number; seconds: number }[], from: number, to: number): number {
  const nearest = (at: number) => samples.reduce((best, sample) => (Math.abs(sample.at - at) < Math.abs(best.at - at) ? sample : best));
  if (samples.length === 0) return Number.NaN;
  return nearest(to).seconds - nearest(from).seconds;
}

/** Kernel clock ticks per second for /proc times: 100 on every Linux this runs on (USER_HZ). */
const USER_HZ = 100;

/** User + system CPU seconds a process has used so far, all its threads (/proc/<pid>/stat). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the parenthesised command name, which may itself contain spaces.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** Runs the worker as a user would and watches it: log lines, /readyz, RSS every 100 ms. */
export async function runWorker(options: WorkerOptions): Promise<WorkerRun> {
  const spawnedAt = Date.now();
  const plain = [options.node ?? process.execPath, options.cli, 'worker', ...(options.drain ? ['--drain'] : [])];
  const command = options.wrap ? options.wrap(plain) : plain;
  // taskset (and a wrap's shell) exec node in their own process, so the pid watched below is the worker's.
  const [file, ...args] = options.cpus === undefined ? command : ['taskset', '-c', options.cpus, ...command];
  const child = spawn(file!, args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const run: { -readonly [K in keyof WorkerRun]: WorkerRun[K] } = { spawnedAt, lines: [], rss: [], cpu: { worker: [], machine: [] }, peakMb: 0, exitCode: null };
  const pid = child.pid!;
  let stopped = false;
  const stop = () => {
    if (!stopped) {
      stopped = true;
      child.kill('SIGTERM');
    }
  };
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${options.metricsPort}/metrics`).catch(() => undefined);
    return response?.ok ? await response.text() : undefined;
  };
  let stopping = false;
  const check = () => {
    if (stopping || !options.until?.(run)) return;
    stopping = true;
    if (options.metricsPort === undefined) stop();
    else
      void scrape().then((text) => {
        if (text !== undefined) run.metricsAtEnd = text;
        stop();
      });
  };
  createInterface({ input: child.stderr! }).on('line', (text) => {
    try {
      const line = { ...(JSON.parse(text) as LogLine), seenAt: Date.now() };
      run.lines.push(line);
      if (line.msg === 'worker ready' && options.metricsPort !== undefined) {
        void scrape().then((exposition) => {
          if (exposition !== undefined) run.metricsAtReady = exposition;
        });
      }
    } catch {
      run.lines.push({ msg: text, seenAt: Date.now() });
    }
    check();
  });
  const sampler = setInterval(() => {
    const proc = readProc(pid);
    if (proc) {
      const at = Date.now();
      run.rss.push({ at, mb: proc.rssMb });
      run.cpu.worker!.push({ at, seconds: proc.cpuSeconds });
      run.cpu.machine!.push({ at, seconds: machineBusySeconds() });
      for (const [name, watched] of Object.entries(options.watch ?? {})) {
        const seconds = processCpuSeconds(watched);
        if (seconds !== undefined) (run.cpu[name] ??= []).push({ at, seconds });
      }
      run.peakMb = Math.max(run.peakMb, proc.hwmMb);
    }
  }, 100);
  let polling = options.pollReadyz !== undefined;
  const poll = async () => {
    while (polling && run.readyAt === undefined) {
      try {
        const response = await fetch(`http://127.0.0.1:${options.pollReadyz}/readyz`);
        if (response.status === 200) {
          run.readyAt = Date.now();
          check();
          break;
        }
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  void poll();
  const timeout = setTimeout(stop, options.timeoutMs);
  run.exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  polling = false;
  clearTimeout(timeout);
  clearInterval(sampler);
  return run;
}

export const indexedLines = (run: WorkerRun) => run.lines.filter((line) => line.msg === 'file indexed');
