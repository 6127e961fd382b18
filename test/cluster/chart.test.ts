// The chart on a real control plane (scripts/cluster): a real API server, scheduler and
// controllers, real KEDA (operator, metrics API server, admission webhooks) reading the real moto
// queue of scripts/dev-stack. Nodes and containers are simulated by kwok: pods are scheduled for
// real, then marked Running and Ready (Job pods: Succeeded) without any container running, so the
// worker pods never consume; real `keda-indexer worker --drain` processes on this host stand in
// for them where the queue must drain. See docs/cluster-test.md.
//
// The tests share one cluster and run in order: admission, then one prod-like release that scales
// 0 → 1 → N, is placed on GPU nodes, upgraded, rolled back, falls back, drains and returns to 0;
// then the webhook, uninstall, ScaledJob mode and two pipelines of one release.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, DeleteQueueCommand, PurgeQueueCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseAllDocuments } from 'yaml';
import { CLI } from '../support/cli.js';
import { es, keysWithOutcome, queueDepth, sqs, uniqueName } from '../support/stack.js';
import {
  type Condition,
  type DeploymentJson,
  type List,
  type PodJson,
  Timeline,
  evidence,
  helm,
  kubectl,
  kubectlJson,
  run,
  secondsSince,
  sleep,
  waitFor,
  watchReplicas,
} from './kube.js';
import { deleteIndexFamily } from '../support/indices.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const chart = join(root, 'chart');

// Scaling parameters of the prod-like release: K messages, queueLength Q, maxReplicaCount M.
const K = 40;
const Q = 10;
const M = 3;
const N = Math.min(M, Math.ceil(K / Q));
const POLLING_INTERVAL = 5;
const COOLDOWN = 20;
const FALLBACK_REPLICAS = 1;
const FALLBACK_THRESHOLD = 3;
const GPU_NODES = 2; // scripts/cluster's default; N > GPU_NODES leaves pods Pending

const awsEndpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const prodNs = 'ki-prod';
const prodRelease = 'ki-prod';
const prodName = 'ki-prod-keda-indexer'; // fullname: release + chart name
const queueName = uniqueName('cluster');
const bucket = uniqueName('cluster-docs');
const index = uniqueName('cluster-index');
const jobQueueName = uniqueName('cluster-jobs');
let queueUrl = '';
let jobQueueUrl = '';
let work = '';
// The Secrets values-prod.yaml names with existingSecret (created by the user, not the chart).
const outOfBandSecrets = [['keda-indexer-elasticsearch', 'api-key'], ['keda-indexer-elasticsearch-ca', 'ca.crt']] as const;

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ELASTICSEARCH_INDEX: index, S3_BUCKET: bucket, SQS_QUEUE_URL: queueUrl, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0', ...extra };
}

/** Runs the built CLI to completion. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // 'close', not 'exit': at 'exit' the last lines (a bootstrap's export line) may still be in the pipes.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code: code ?? 1, stdout, stderr };
}

async function deployment(ns: string, name: string): Promise<DeploymentJson> {
  return kubectlJson<DeploymentJson>(['get', 'deployment', name, '-n', ns]);
}

async function replicas(ns = prodNs, name = prodName): Promise<number> {
  return (await deployment(ns, name)).spec.replicas ?? 0;
}

function checksums(d: DeploymentJson): Record<string, string> {
  const annotations = d.spec.template.metadata.annotations ?? {};
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => key.startsWith('checksum/')));
}

async function scaledObjectCondition(ns: string, name: string, type: string): Promise<Condition | undefined> {
  const so = await kubectlJson<{ status?: { conditions?: Condition[] } }>(['get', 'scaledobject', name, '-n', ns]);
  return so.status?.conditions?.find((c) => c.type === type);
}

/** Every object of a release's manifest, as "kind/name". */
async function releaseObjects(release: string, ns: string): Promise<string[]> {
  const manifest = await helm(['get', 'manifest', release, '-n', ns]);
  return parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string } } | null)
    .filter((obj): obj is { kind: string; metadata: { name: string } } => typeof obj?.kind === 'string' && typeof obj.metadata?.name === 'string')
    .map((obj) => `${obj.kind}/${obj.metadata.name}`);
}

/** Asserts that the API server holds every object of the release (it admitted each one). */
async function assertAdmitted(release: string, ns: string): Promise<string[]> {
  const objects = await releaseObjects(release, ns);
  assert.ok(objects.length > 0, `release ${release} has no objects`);
  for (const object of objects) {
    const [kind, name] = object.split('/') as [string, string];
    const namespaced = !['ClusterRole', 'ClusterRoleBinding'].includes(kind);
    const result = await run('kubectl', ['get', kind, name, ...(namespaced ? ['-n', ns] : []), '-o', 'name']);
    assert.equal(result.code, 0, `${object} of ${release} is not in the cluster: ${result.stderr}`);
  }
  return objects;
}

/** A namespace holding the Secrets values-prod.yaml expects to be made out of band. */
async function prepareNamespace(ns: string): Promise<void> {
  await kubectl(['create', 'namespace', ns]);
  for (const [name, key] of outOfBandSecrets) {
    await kubectl(['create', 'secret', 'generic', name, '-n', ns, `--from-literal=${key}=placeholder`]);
  }
}

/** What a namespace still holds of kinds a release or KEDA makes, beyond the user's own Secrets. */
async function leftovers(ns: string): Promise<string> {
  const own = new Set(['configmap/kube-root-ca.crt', ...outOfBandSecrets.map(([name]) => `secret/${name}`)]);
  const names = await kubectl(['get', 'scaledobjects,scaledjobs,triggerauthentications,hpa,jobs,secrets,deployments,pods,configmaps', '-n', ns, '-o', 'name']);
  return names.trim().split('\n').filter((o) => o !== '' && !own.has(o)).sort().join(' ');
}

/**
 * A TCP relay to moto that only KEDA's scaler uses (the trigger's awsEndpoint). Closing it makes
 * the queue unreadable for KEDA, as an expired role or a network partition would, while the queue
 * keeps its messages and the workers keep their direct endpoint.
 */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: URL) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    // Reopened on the port the ScaledObject names. Between close and open another socket can hold
    // it (an outgoing connection of this busy host takes ports from the same range): try again
    // until it is free; the deadline bounds a hang only.
    await waitFor(`port ${this.port} for the relay`, 60_000, async () => {
      server.listen(this.port, '127.0.0.1');
      try {
        await once(server, 'listening');
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        server.close(); // as Node's documentation does before listening again
        return undefined;
      }
    });
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    this.server = server;
  }

  /** Stops listening and cuts open connections: the scaler's next call is refused at once. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    const closed = once(server, 'close');
    server.close();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}

const relay = new Relay(new URL(awsEndpoint));

/** The prod-like override of values-prod.yaml: secret auth instead of IRSA, moto as AWS, quick polling. */
function prodOverride(): Record<string, unknown> {
  return {
    config: { awsRegion: 'us-east-1', awsEndpointUrl: awsEndpoint, sqsQueueUrl: queueUrl, s3Bucket: bucket },
    aws: { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    keda: {
      pollingInterval: POLLING_INTERVAL,
      cooldownPeriod: COOLDOWN,
      maxReplicaCount: M,
      trigger: { queueLength: Q, awsEndpoint: `http://127.0.0.1:${relay.port}` },
      fallback: { failureThreshold: FALLBACK_THRESHOLD, replicas: FALLBACK_REPLICAS },
      // values-prod scales in one pod a minute after 5 minutes; the suite cannot wait that long.
      advanced: {
        horizontalPodAutoscalerConfig: {
          behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] } },
        },
      },
      authentication: { mode: 'secret' },
    },
  };
}

describe('the chart on a real control plane with KEDA', { concurrency: false }, () => {
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'ki-cluster-'));
    await relay.open();
    const made = await cli(['bootstrap', '--queue-name', queueName]);
    assert.equal(made.code, 0, made.stderr);
    queueUrl = /export SQS_QUEUE_URL=(\S+)/.exec(made.stdout)?.[1] ?? '';
    assert.notEqual(queueUrl, '', made.stdout);
    const jobs = await cli(['bootstrap', '--queue-name', jobQueueName, '--bucket', `${bucket}-jobs`, '--skip-index']);
    assert.equal(jobs.code, 0, jobs.stderr);
    jobQueueUrl = /export SQS_QUEUE_URL=(\S+)/.exec(jobs.stdout)?.[1] ?? '';
    // S3 (and moto) announce a new notification with an s3:TestEvent message. A worker
    // acknowledges it; until then KEDA rightly sees one message and keeps a replica.
    const drained = await cli(['worker', '--drain']);
    assert.equal(drained.code, 0, drained.stderr);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: jobQueueUrl }));
    await writeFile(join(work, 'prod-override.yaml'), JSON.stringify(prodOverride()));
    const version = await kubectl(['version', '-o', 'json']);
    const server = (JSON.parse(version) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion;
    console.log(`# cluster: Kubernetes ${server}; helm ${(await helm(['version', '--short'])).trim()}`);
  });

  after(async () => {
    for (const [release, ns] of [['ki-local', 'ki-local'], [prodRelease, prodNs], ['ki-job', 'ki-job'], ['ki-pipes', 'ki-pipes']] as const) {
      await run('helm', ['uninstall', release, '-n', ns, '--wait', '--timeout', '60s']);
    }
    await deleteIndexFamily(es, index);
    await relay.close();
    await run('kubectl', ['delete', 'namespace', 'ki-local', prodNs, 'ki-job', 'ki-pipes', '--ignore-not-found', '--timeout=90s']);
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  test('admission: values-local.yaml installs; every object admitted; KEDA makes the HPA', async () => {
    await helm(['install', 'ki-local', chart, '-n', 'ki-local', '--create-namespace', '-f', join(root, 'values-local.yaml'), '--wait', '--timeout', '180s']);
    const objects = await assertAdmitted('ki-local', 'ki-local');
    for (const kind of ['Deployment', 'ScaledObject', 'TriggerAuthentication', 'ConfigMap', 'Secret']) {
      assert.ok(objects.some((o) => o.startsWith(`${kind}/`)), `values-local renders no ${kind}: ${objects.join(', ')}`);
    }
    // The bootstrap hook Job ran to completion (kwok completes its pod), or helm install would have failed.
    await waitFor('KEDA to create the HPA for values-local', 60_000, async () => {
      const result = await run('kubectl', ['get', 'hpa', 'keda-hpa-ki-local-keda-indexer', '-n', 'ki-local', '-o', 'name']);
      return result.code === 0 ? true : undefined;
    }, 'ki-local');
    await helm(['uninstall', 'ki-local', '-n', 'ki-local', '--wait', '--timeout', '60s']);
  });

  test('admission: prod-like values-prod.yaml (secret auth, moto) installs; KEDA marks it Ready', async () => {
    // values-prod.yaml reads the Elasticsearch API key and CA from Secrets made out of band.
    // They must exist: KEDA resolves the scale target's environment, Secret references included,
    // and refuses to build the HPA without them ("error resolving secrets for ScaleTarget").
    await prepareNamespace(prodNs);
    await helm([
      'install', prodRelease, chart, '-n', prodNs,
      '-f', join(root, 'values-prod.yaml'), '-f', join(work, 'prod-override.yaml'), '--wait', '--timeout', '120s',
    ]);
    const installedAt = Date.now();
    const objects = await assertAdmitted(prodRelease, prodNs);
    for (const kind of ['Deployment', 'ScaledObject', 'TriggerAuthentication', 'PodDisruptionBudget', 'NetworkPolicy', 'ServiceMonitor']) {
      assert.ok(objects.some((o) => o.startsWith(`${kind}/`)), `prod-like release lacks ${kind}: ${objects.join(', ')}`);
    }
    const ready = await waitFor('the ScaledObject to be Ready', 60_000, async () => {
      const c = await scaledObjectCondition(prodNs, prodName, 'Ready');
      return c?.status === 'True' ? c : undefined;
    }, prodNs);
    assert.equal(ready.status, 'True');
    // A Deployment created without spec.replicas starts at 1 (the API server's default); KEDA
    // takes it to 0 on its first poll of an empty queue. Measured, not hidden: docs/cluster-test.md.
    await waitFor('KEDA to scale the fresh Deployment to 0', 60_000, async () => ((await replicas()) === 0 ? true : undefined), prodNs);
    console.log(`# fresh install → 0 replicas: ${secondsSince(installedAt)} s after helm install returned`);
  });

  test('admission: unmodified values-prod.yaml passes helm install --dry-run=server', async () => {
    await kubectl(['create', 'namespace', 'ki-dry']);
    const out = await helm(['install', 'ki-dry', chart, '-n', 'ki-dry', '-f', join(root, 'values-prod.yaml'), '--dry-run=server']);
    assert.match(out, /kind: ScaledObject/);
    assert.match(out, /podIdentity:\n\s+provider: aws/);
    await kubectl(['delete', 'namespace', 'ki-dry', '--wait=false']);
  });

  test('admission: ct install of every chart/ci/*-values.yaml', async () => {
    const valuesFiles = (await readdir(join(chart, 'ci'))).filter((f) => f.endsWith('-values.yaml')).sort();
    assert.ok(valuesFiles.length >= 5, valuesFiles.join(', '));
    const result = await run('ct', [
      'install', '--config', 'ci/ct.yaml', '--charts', 'chart', '--helm-extra-args', '--timeout 180s',
    ]);
    const output = result.stdout + result.stderr;
    assert.equal(result.code, 0, `ct install failed:\n${output.slice(-6000)}\n${await evidence()}`);
    for (const file of valuesFiles) {
      assert.match(output, new RegExp(`ci/${file}`), `ct install did not install with ${file}`);
    }
    console.log(`# ct install: ${valuesFiles.length} values files installed, tested and uninstalled`);
  });

  let timeline = new Timeline();

  test('no messages: the Deployment stays at 0', async () => {
    const seen = new Set<number>();
    const end = Date.now() + 3 * POLLING_INTERVAL * 1000;
    while (Date.now() < end) {
      seen.add(await replicas());
      await sleep(1000);
    }
    assert.deepEqual([...seen], [0]);
    const active = await scaledObjectCondition(prodNs, prodName, 'Active');
    assert.equal(active?.status, 'False', JSON.stringify(active));
  });

  test(`K=${K} messages, queueLength ${Q}, maxReplicaCount ${M}: 0 → 1 → ${N}`, async () => {
    const files = join(work, 'files');
    await mkdir(files);
    for (let i = 0; i < K; i++) {
      await writeFile(join(files, `note-${String(i).padStart(3, '0')}.txt`), `Note ${i}: the cluster suite indexes this file about topic ${i % 7}.`);
    }
    const watch = watchReplicas(prodNs, prodName);
    await waitFor('the replica watch to start', 60_000, () => (watch.changes.length > 0 ? true : undefined));
    assert.equal(watch.changes[0]?.replicas, 0, 'the Deployment is not at 0 before the first message');
    timeline = new Timeline();
    timeline.mark('start: uploading');
    const upload = await cli(['upload', files]);
    assert.equal(upload.code, 0, upload.stderr);
    timeline.mark(`${K} files uploaded (S3 notifications queued)`);
    try {
      await waitFor(`replicas to reach ${N}`, 120_000, () => (watch.changes.at(-1)?.replicas === N ? true : undefined), prodNs);
      // Held there: the HPA does not overshoot while the queue stays full.
      await sleep(2 * POLLING_INTERVAL * 1000);
    } finally {
      watch.stop();
    }
    const sequence = watch.changes.map((c) => c.replicas);
    for (const change of watch.changes.slice(1)) timeline.mark(`replicas ${change.replicas}`, change.at);
    // KEDA activates 0 → 1; the HPA then takes it up to N, never beyond, and it holds. The HPA may
    // reach N in more than one step: it acts on the queue length it reads, and on a loaded machine
    // its first reading can come while the upload is still filling the queue (1 → 2 → 3 is right).
    const described = `seen ${sequence.join(' → ')}`;
    assert.deepEqual(sequence.slice(0, 2), [0, 1], `KEDA activates 0 → 1; ${described}`);
    assert.ok(sequence.every((replicas, i) => i === 0 || replicas > (sequence[i - 1] ?? 0)), `scaling up only; ${described}`);
    assert.equal(sequence.at(-1), N, `the HPA takes it to ${N}; ${described}`);
    assert.ok(Math.max(...sequence) <= M, `never above maxReplicaCount ${M}; ${described}`);
    assert.equal(await replicas(), N);
    console.log(`# replicas: ${sequence.join(' → ')}`);
  });

  test('GPU placement: workers only on GPU nodes; the surplus Pending on Insufficient nvidia.com/gpu', async () => {
    const pods = await waitFor(`${N} worker pods, ${GPU_NODES} Running`, 60_000, async () => {
      const list = await kubectlJson<List<PodJson>>(['get', 'pods', '-n', prodNs, '-l', 'app.kubernetes.io/component=worker']);
      const live = list.items.filter((p) => !('deletionTimestamp' in p.metadata));
      const running = live.filter((p) => p.status.phase === 'Running');
      return live.length === N && running.length === Math.min(N, GPU_NODES) ? live : undefined;
    }, prodNs);
    for (const pod of pods.filter((p) => p.status.phase === 'Running')) {
      assert.match(pod.spec.nodeName ?? '', /^gpu-/, `${pod.metadata.name} runs on ${pod.spec.nodeName}`);
    }
    const pending = pods.filter((p) => p.status.phase === 'Pending');
    assert.equal(pending.length, N - GPU_NODES);
    for (const pod of pending) {
      const scheduled = pod.status.conditions?.find((c) => c.type === 'PodScheduled');
      assert.equal(scheduled?.status, 'False');
      assert.match(scheduled.message ?? '', /Insufficient nvidia\.com\/gpu/, JSON.stringify(scheduled));
    }
    const nodes = await kubectl(['get', 'pods', '-n', prodNs, '-o', 'jsonpath={.items[*].spec.nodeName}']);
    assert.doesNotMatch(nodes, /cpu-/, 'a worker pod landed on a CPU node');
  });

  test('helm upgrade rolls the pods and keeps KEDA\'s replica count; rollback restores the config', async () => {
    const before = await deployment(prodNs, prodName);
    assert.equal(before.spec.replicas, N);
    await helm(['upgrade', prodRelease, chart, '-n', prodNs, '--reuse-values', '--set', 'config.logLevel=debug']);
    const upgraded = await deployment(prodNs, prodName);
    assert.equal(upgraded.spec.replicas, N, 'helm upgrade changed spec.replicas: it fights KEDA');
    assert.notDeepEqual(checksums(upgraded), checksums(before), 'a config change must change the pod template checksum');
    assert.ok(upgraded.metadata.generation > before.metadata.generation, 'the pod template did not change');
    // A new ReplicaSet carries the new template: the pods roll.
    await waitFor('a ReplicaSet with the new checksum', 30_000, async () => {
      const sets = await kubectlJson<List<{ spec: { replicas: number; template: { metadata: { annotations?: Record<string, string> } } } }>>(
        ['get', 'replicasets', '-n', prodNs, '-l', 'app.kubernetes.io/instance=ki-prod'],
      );
      const wanted = checksums(upgraded)['checksum/config'];
      return sets.items.some((s) => s.spec.template.metadata.annotations?.['checksum/config'] === wanted && s.spec.replicas > 0) ? true : undefined;
    }, prodNs);
    await sleep(2 * POLLING_INTERVAL * 1000);
    assert.equal(await replicas(), N, 'replicas drifted after the upgrade');

    await helm(['rollback', prodRelease, '1', '-n', prodNs]);
    const rolledBack = await deployment(prodNs, prodName);
    assert.deepEqual(checksums(rolledBack), checksums(before), 'rollback did not restore the config checksum');
    assert.equal(rolledBack.spec.replicas, N, 'helm rollback changed spec.replicas');
    const config = await kubectl(['get', 'configmap', prodName, '-n', prodNs, '-o', 'jsonpath={.data.LOG_LEVEL}']);
    assert.equal(config, 'info');
  });

  test(`fallback: the queue unreadable for ${FALLBACK_THRESHOLD} polls → ${FALLBACK_REPLICAS} replica(s), then recovery`, async () => {
    const start = Date.now();
    await relay.close();
    try {
      await waitFor(`replicas ${FALLBACK_REPLICAS} (fallback)`, 120_000, async () => ((await replicas()) === FALLBACK_REPLICAS ? true : undefined), prodNs);
      const fallback = await scaledObjectCondition(prodNs, prodName, 'Fallback');
      assert.equal(fallback?.status, 'True', JSON.stringify(fallback));
      console.log(`# fallback to ${FALLBACK_REPLICAS} replica(s) ${secondsSince(start)} s after the scaler lost the queue`);
    } finally {
      await relay.open();
    }
    const back = Date.now();
    await waitFor(`replicas back to ${N}`, 120_000, async () => ((await replicas()) === N ? true : undefined), prodNs);
    await waitFor('the Fallback condition to clear', 60_000, async () => {
      const fallback = await scaledObjectCondition(prodNs, prodName, 'Fallback');
      return fallback?.status === 'False' ? true : undefined;
    }, prodNs);
    console.log(`# recovered to ${N} replicas ${secondsSince(back)} s after the queue was readable again`);
  });

  test('host workers drain the queue into Elasticsearch; after cooldownPeriod replicas return to 0', async () => {
    timeline.mark('draining with 2 host workers');
    // When the queue first reads empty (visible and in flight), polled beside the workers, and when
    // a read that began last still found messages: the queue emptied between the two, however late
    // this process got to run. lastFullAt is what the cooldown is measured from below.
    const drain = { running: true, emptyAt: 0, lastFullAt: Date.now() };
    const watch = (async () => {
      while (drain.running && drain.emptyAt === 0) {
        const readAt = Date.now();
        const depth = await queueDepth(queueUrl);
        if (depth.visible + depth.inFlight + depth.delayed === 0) drain.emptyAt = Date.now();
        else drain.lastFullAt = readAt;
        await sleep(250);
      }
    })();
    const workers = await Promise.all([cli(['worker', '--drain']), cli(['worker', '--drain'])]);
    drain.running = false;
    await watch;
    const emptyAt = drain.emptyAt === 0 ? Date.now() : drain.emptyAt;
    for (const w of workers) assert.equal(w.code, 0, w.stderr.slice(-4000));
    // Which files, not how many lines: SQS may deliver a message twice on a loaded machine.
    const indexed = new Set(workers.flatMap((w) => keysWithOutcome(w.stderr, 'indexed')));
    assert.equal(indexed.size, K, `every uploaded file indexed: ${indexed.size} of ${K}`);
    assert.deepEqual(await queueDepth(queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
    timeline.mark('queue empty', emptyAt);
    await es.indices.refresh({ index });
    const count = await es.count({ index, query: { prefix: { file_path: `s3://${bucket}/` } } });
    assert.ok(count.count >= K, `chunks in Elasticsearch: ${count.count}`);
    await waitFor('replicas 0 after cooldown', (COOLDOWN + 90) * 1000, async () => ((await replicas()) === 0 ? true : undefined), prodNs);
    timeline.mark('replicas 0');
    const toZero = secondsSince(emptyAt);
    // KEDA counts the cooldown from its last poll that saw messages, at most one interval before
    // the queue emptied; the queue emptied after lastFullAt (a read begun then still found
    // messages), so 0 replicas cannot come before lastFullAt + cooldown - interval. Measured from
    // lastFullAt, this process's own lateness in seeing the empty queue cannot fail the check.
    const sinceLastFull = secondsSince(drain.lastFullAt);
    assert.ok(
      sinceLastFull >= COOLDOWN - POLLING_INTERVAL,
      `scaled to 0 ${sinceLastFull} s after the queue last read non-empty: cooldownPeriod ${COOLDOWN} s not honoured`,
    );
    console.log(`# timeline (seconds from the start of the upload):\n${timeline.toString()}`);
    console.log(`# empty queue → 0 replicas: ${toZero} s (cooldownPeriod ${COOLDOWN} s, pollingInterval ${POLLING_INTERVAL} s)`);
  });

  test('the webhook is live: a second ScaledObject for the same Deployment is refused', async () => {
    const second = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'second', namespace: prodNs },
      spec: {
        scaleTargetRef: { name: prodName },
        triggers: [{ type: 'aws-sqs-queue', metadata: { queueURL: queueUrl, awsRegion: 'us-east-1', awsEndpoint, queueLength: '5' } }],
      },
    };
    const result = await run('kubectl', ['create', '-f', '-'], JSON.stringify(second));
    if (result.code === 0) await run('kubectl', ['delete', 'scaledobject', 'second', '-n', prodNs]);
    assert.notEqual(result.code, 0, 'the API server admitted a second ScaledObject for one Deployment');
    assert.match(result.stderr, /admission webhook "vscaledobject\.kb\.io" denied the request/, result.stderr);
    // KEDA names whichever owner it finds first: the ScaledObject or the HPA it made for it.
    assert.match(result.stderr, new RegExp(`already managed by the (ScaledObject '${prodName}'|hpa 'keda-hpa-${prodName}')`), result.stderr);
  });

  test('helm uninstall leaves no ScaledObject, HPA, Job or Secret behind', async () => {
    await helm(['uninstall', prodRelease, '-n', prodNs, '--wait', '--timeout', '60s']);
    // Only the user's own Secrets stay; everything the chart or KEDA made is gone.
    await waitFor('nothing of the release left', 60_000, async () => ((await leftovers(prodNs)) === '' ? true : undefined), prodNs);
  });

  test('ScaledJob mode: messages create Jobs, at most maxReplicaCount at once, each running worker --drain', async () => {
    const jobMax = 3;
    const override = {
      ...prodOverride(),
      mode: 'job',
      config: { awsRegion: 'us-east-1', awsEndpointUrl: awsEndpoint, sqsQueueUrl: jobQueueUrl, s3Bucket: `${bucket}-jobs` },
      gpu: { count: 0 },
      keda: {
        pollingInterval: POLLING_INTERVAL,
        maxReplicaCount: jobMax,
        trigger: { queueLength: 1, scaleOnInFlight: false },
        fallback: null,
        advanced: null,
        authentication: { mode: 'secret' },
      },
      podDisruptionBudget: { enabled: false },
    };
    await writeFile(join(work, 'job-override.yaml'), JSON.stringify(override));
    await prepareNamespace('ki-job');
    await helm(['install', 'ki-job', chart, '-n', 'ki-job', '-f', join(root, 'values-prod.yaml'), '-f', join(work, 'job-override.yaml'), '--wait', '--timeout', '60s']);
    await assertAdmitted('ki-job', 'ki-job');
    for (let i = 0; i < 10; i++) {
      await sqs.send(new SendMessageCommand({ QueueUrl: jobQueueUrl, MessageBody: JSON.stringify({ bucket: `${bucket}-jobs`, key: `job-${i}.txt` }) }));
    }
    let maxActive = 0;
    const created = new Set<string>();
    await waitFor(`at least ${jobMax} Jobs`, 90_000, async () => {
      const jobs = await kubectlJson<List<{ metadata: { name: string }; status: { active?: number } }>>(['get', 'jobs', '-n', 'ki-job']);
      for (const j of jobs.items) created.add(j.metadata.name);
      maxActive = Math.max(maxActive, jobs.items.filter((j) => (j.status.active ?? 0) > 0).length);
      return created.size >= jobMax ? true : undefined;
    }, 'ki-job');
    assert.ok(maxActive <= jobMax, `${maxActive} Jobs active at once, maxReplicaCount ${jobMax}`);
    const pods = await kubectlJson<List<PodJson>>(['get', 'pods', '-n', 'ki-job']);
    assert.ok(pods.items.length > 0, 'no Job pods');
    for (const pod of pods.items) {
      const worker = pod.spec.containers.find((c) => c.name === 'worker') ?? pod.spec.containers[0];
      assert.deepEqual(worker?.args?.slice(-2), ['worker', '--drain'], `${pod.metadata.name}: ${JSON.stringify(worker?.args)}`);
    }
    console.log(`# ScaledJob: ${created.size} Jobs created, at most ${maxActive} active (maxReplicaCount ${jobMax})`);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: jobQueueUrl }));
    await helm(['uninstall', 'ki-job', '-n', 'ki-job', '--wait', '--timeout', '60s']);
    await waitFor('no ScaledJob, Job or Secret of the release left', 60_000, async () => ((await leftovers('ki-job')) === '' ? true : undefined), 'ki-job');
  });

  test('two pipelines in one release scale independently, each on its own node pool', async () => {
    // "contracts" keeps values-prod's GPU profile; "tickets" runs on CPU. Each has its own queue,
    // index alias and ScaledObject; messages on one queue must move only that pipeline.
    const ns = 'ki-pipes';
    const pool = { contracts: { max: GPU_NODES, messages: 3 * GPU_NODES * 5 }, tickets: { max: 2, messages: 2 * 5 } };
    const queues: Record<keyof typeof pool, string> = { contracts: '', tickets: '' };
    for (const name of Object.keys(pool) as (keyof typeof pool)[]) {
      const made = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName(`cluster-${name}`) }));
      queues[name] = made.QueueUrl ?? '';
    }
    const scaling = (max: number) => ({ maxReplicaCount: max, trigger: { queueLength: 5, awsEndpoint } });
    const values = {
      pipelines: [
        { name: 'contracts', config: { sqsQueueUrl: queues.contracts }, elasticsearch: { index: `${index}-contracts` }, keda: scaling(pool.contracts.max) },
        {
          name: 'tickets',
          config: { sqsQueueUrl: queues.tickets },
          elasticsearch: { index: `${index}-tickets` },
          keda: scaling(pool.tickets.max),
          gpu: { count: 0 },
          nodeSelector: {},
          tolerations: [],
        },
      ],
    };
    await writeFile(join(work, 'pipelines.yaml'), JSON.stringify(values));
    await prepareNamespace(ns);
    await helm([
      'install', 'ki-pipes', chart, '-n', ns, '-f', join(root, 'values-prod.yaml'), '-f', join(work, 'prod-override.yaml'),
      '-f', join(work, 'pipelines.yaml'), '--wait', '--timeout', '120s',
    ]);
    const objects = await assertAdmitted('ki-pipes', ns);
    const names = { contracts: 'ki-pipes-keda-indexer-contracts', tickets: 'ki-pipes-keda-indexer-tickets' };
    for (const name of Object.values(names)) {
      for (const kind of ['Deployment', 'ScaledObject', 'TriggerAuthentication', 'ConfigMap']) {
        assert.ok(objects.includes(`${kind}/${name}`), `no ${kind}/${name} in ${objects.join(', ')}`);
      }
      await waitFor(`${name} Ready at 0 replicas`, 90_000, async () => {
        const ready = await scaledObjectCondition(ns, name, 'Ready');
        return ready?.status === 'True' && (await replicas(ns, name)) === 0 ? true : undefined;
      }, ns);
    }
    const watches = { contracts: watchReplicas(ns, names.contracts), tickets: watchReplicas(ns, names.tickets) };
    // Started before the messages, or 'tickets never moved' below would be read from an empty record.
    for (const [name, watch] of Object.entries(watches)) {
      await waitFor(`the replica watch of ${name} to start`, 60_000, () => (watch.changes.length > 0 ? true : undefined));
    }
    const send = async (name: keyof typeof pool) => {
      for (let i = 0; i < pool[name].messages; i++) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queues[name], MessageBody: JSON.stringify({ bucket, key: `${name}/${i}.txt` }) }));
      }
    };
    const workerPods = async (name: string) => {
      const list = await kubectlJson<List<PodJson>>(['get', 'pods', '-n', ns, '-l', `app.kubernetes.io/component=worker,keda-indexer.dev/pipeline=${name}`]);
      return list.items.filter((p) => !('deletionTimestamp' in p.metadata));
    };
    try {
      await send('contracts');
      await waitFor(`contracts at ${pool.contracts.max}`, 120_000, async () => ((await replicas(ns, names.contracts)) === pool.contracts.max ? true : undefined), ns);
      await sleep(2 * POLLING_INTERVAL * 1000);
      assert.deepEqual(watches.tickets.changes.map((c) => c.replicas), [0], 'tickets moved on contracts\' messages');
      const gpuPods = await waitFor('contracts pods Running', 60_000, async () => {
        const pods = await workerPods('contracts');
        return pods.length === pool.contracts.max && pods.every((p) => p.status.phase === 'Running') ? pods : undefined;
      }, ns);
      for (const pod of gpuPods) assert.match(pod.spec.nodeName ?? '', /^gpu-/, `${pod.metadata.name} on ${pod.spec.nodeName}`);

      await send('tickets');
      await waitFor(`tickets at ${pool.tickets.max}`, 120_000, async () => ((await replicas(ns, names.tickets)) === pool.tickets.max ? true : undefined), ns);
      const cpuPods = await waitFor('tickets pods Running', 60_000, async () => {
        const pods = await workerPods('tickets');
        return pods.length === pool.tickets.max && pods.every((p) => p.status.phase === 'Running') ? pods : undefined;
      }, ns);
      for (const pod of cpuPods) {
        assert.match(pod.spec.nodeName ?? '', /^cpu-/, `${pod.metadata.name} on ${pod.spec.nodeName}`);
        const requests = JSON.stringify(pod.spec.containers.map((c) => c.resources ?? {}));
        assert.doesNotMatch(requests, /nvidia\.com\/gpu/, `${pod.metadata.name} asks for a GPU: ${requests}`);
      }
      assert.equal(await replicas(ns, names.contracts), pool.contracts.max, 'contracts moved on tickets\' messages');

      // One queue emptied: only its pipeline returns to 0 after the cooldown.
      await sqs.send(new PurgeQueueCommand({ QueueUrl: queues.contracts }));
      await waitFor('contracts back to 0', (COOLDOWN + 90) * 1000, async () => ((await replicas(ns, names.contracts)) === 0 ? true : undefined), ns);
      assert.equal(await replicas(ns, names.tickets), pool.tickets.max, 'tickets scaled in when only contracts\' queue emptied');
      const sequence = (name: keyof typeof pool) => watches[name].changes.map((c) => c.replicas).join(' → ');
      console.log(`# pipelines: contracts ${sequence('contracts')} on gpu-*, tickets ${sequence('tickets')} on cpu-*`);
    } finally {
      watches.contracts.stop();
      watches.tickets.stop();
      // Deleted, not purged: SQS allows one purge a minute, and contracts' queue was just purged.
      for (const url of Object.values(queues)) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    }
    await helm(['uninstall', 'ki-pipes', '-n', ns, '--wait', '--timeout', '60s']);
    await waitFor('nothing of the release left', 60_000, async () => ((await leftovers(ns)) === '' ? true : undefined), ns);
  });
});
