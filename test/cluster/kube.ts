// Helpers for the cluster suite: kubectl and helm against the control plane of scripts/cluster
// (KUBECONFIG and PATH come from `scripts/cluster env`), waiting with evidence, and a timeline.
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a command; never throws on a non-zero exit (the caller decides what a failure means). */
export function run(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, env: process.env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout, stderr: stderr || (error !== null && typeof error.code !== 'number' ? error.message : '') });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Runs a command and returns its stdout; throws with stderr when it fails. */
export async function runOk(command: string, args: readonly string[], input?: string): Promise<string> {
  const result = await run(command, args, input);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

export const kubectl = (args: readonly string[], input?: string): Promise<string> => runOk('kubectl', args, input);
export const helm = (args: readonly string[]): Promise<string> => runOk('helm', args);

export async function kubectlJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
}

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly annotations?: Record<string, string>;
  readonly labels?: Record<string, string>;
  readonly ownerReferences?: { kind: string; name: string }[];
}

export interface DeploymentJson {
  readonly metadata: ObjectMeta & { generation: number };
  readonly spec: { replicas?: number; template: { metadata: { annotations?: Record<string, string> } } };
  readonly status: { replicas?: number; readyReplicas?: number; observedGeneration?: number };
}

export interface PodJson {
  readonly metadata: ObjectMeta;
  readonly spec: { nodeName?: string; containers: { name: string; args?: string[]; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[] };
  readonly status: { phase: string; conditions?: Condition[] };
}

export interface List<T> {
  readonly items: T[];
}

/** Seconds since `start`, one decimal. */
export function secondsSince(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined. On timeout, throws with what the
 * cluster says about the namespace (events, HPA conditions, KEDA's log lines), so a failure
 * shows the cluster's own evidence rather than only "timed out".
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, namespace?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `\nlast error: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${reason}\n${await evidence(namespace)}`);
    }
    await sleep(1000);
  }
}

/** The cluster's evidence for a namespace: events, HPAs, KEDA objects, the operator's last log lines. */
export async function evidence(namespace?: string): Promise<string> {
  const parts: string[] = [];
  const section = async (title: string, command: string, args: string[]): Promise<void> => {
    const result = await run(command, args);
    parts.push(`----- ${title} -----\n${(result.stdout + result.stderr).trim()}`);
  };
  if (namespace !== undefined) {
    await section(`events in ${namespace}`, 'kubectl', ['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp']);
    await section(`HPAs in ${namespace}`, 'kubectl', ['describe', 'hpa', '-n', namespace]);
    await section(`KEDA objects in ${namespace}`, 'kubectl', ['get', 'scaledobjects,scaledjobs,deployments,pods,jobs', '-n', namespace, '-o', 'wide']);
    await section(`ScaledObject conditions in ${namespace}`, 'kubectl', [
      'get', 'scaledobjects', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.metadata.name}{": "}{.status.conditions}{"\\n"}{end}',
    ]);
  }
  for (const name of ['keda-operator', 'keda-metrics', 'keda-webhooks']) {
    try {
      const lines = (await readFile(`${repoRoot}.cluster/${name}.log`, 'utf8')).trimEnd().split('\n');
      const relevant = namespace === undefined ? lines : lines.filter((line) => line.includes(namespace) || /error|ERROR/.test(line));
      parts.push(`----- last lines of .cluster/${name}.log -----\n${relevant.slice(-25).join('\n')}`);
    } catch {
      parts.push(`----- .cluster/${name}.log: not readable -----`);
    }
  }
  return parts.join('\n');
}

/** Records when named moments happened, relative to a start, and prints them as a table. */
export class Timeline {
  private readonly start = Date.now();
  private readonly marks: [string, number][] = [];

  /** Marks `name` at `at` (epoch ms; default now) and returns its offset in seconds. */
  mark(name: string, at = Date.now()): number {
    const seconds = Math.round((at - this.start) / 100) / 10;
    this.marks.push([name, seconds]);
    return seconds;
  }

  toString(): string {
    return this.marks.map(([name, seconds]) => `  ${seconds.toFixed(1).padStart(6)} s  ${name}`).join('\n');
  }
}

export interface ReplicaChange {
  readonly replicas: number;
  readonly at: number;
}

/**
 * Watches a Deployment's spec.replicas through the API server's watch, so that no write is missed
 * between polls (KEDA's 0 → 1 and the HPA's 1 → N can land within a second). Records each change.
 */
export function watchReplicas(namespace: string, name: string): { readonly changes: ReplicaChange[]; stop: () => void } {
  const changes: ReplicaChange[] = [];
  const child = spawn('kubectl', ['get', 'deployment', name, '-n', namespace, '--watch', '-o', 'jsonpath={.spec.replicas}{"\\n"}'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const replicas = Number(line.trim() === '' ? 0 : line.trim());
      if (changes.at(-1)?.replicas !== replicas) changes.push({ replicas, at: Date.now() });
    }
  });
  return { changes, stop: () => child.kill() };
}
