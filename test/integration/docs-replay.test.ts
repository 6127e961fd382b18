// docs/operations.md, replayed: the fenced `sh` blocks marked `<!-- replay: NAME -->` run verbatim,
// in order, in one fresh bash per section (`env -i`, a fresh HOME, no profile), against the dev
// stack, in a shell holding only what the docs say the reader has: the dev stack's AWS and
// Elasticsearch settings and the live pipeline's. A live installation is made first, as a running
// one would be; afterwards the test checks that the steps did what the docs promise, and removes
// every queue, bucket and index the replay made. `scripts/replay-docs` runs it with readme-replay.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
import { DeleteQueueCommand, GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { readNotification } from '../../app/src/setup/aws-resources.js';
import { resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import { CLI } from '../support/cli.js';
import { replaySection, ROOT } from '../support/replay.js';
import { deleteIndexFamily, indicesOf } from '../support/indices.js';
import { e5Model, minilmModel } from '../support/models.js';
import { chunksByFile, es, putObject, queueDepth, receivedKeys, s3, sqs, uniqueName } from '../support/stack.js';

const stackVariables = ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'ELASTICSEARCH_URL'];
let scratch = '';
let hubCache = '';

/** The dev stack's settings and nothing else from this process; a fresh HOME. */
function freshEnvironment(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    HOME: mkdtempSync(path.join(scratch, 'home-')),
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    // The hub is not reachable here: the docs' hub id is served from a cache laid out as the
    // hub's (the image bakes its model the same way), so `EMBEDDING_MODEL=Xenova/…` runs as written.
    EMBEDDING_CACHE_DIR: hubCache,
    npm_config_update_notifier: 'false',
  };
  for (const name of stackVariables) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs the section's blocks of docs/operations.md, verbatim and in order, in one fresh shell. */
function replay(section: string, expectedBlocks: number, shell: Record<string, string>): string {
  return replaySection({ file: 'docs/operations.md', section, blocks: expectedBlocks, cwd: ROOT, env: freshEnvironment(shell) }).output;
}

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: freshEnvironment({ HTTP_PORT: '0', ...env }), encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A live installation as the docs assume one: its queue, the bucket's notification, its index. */
function installLive(queueName: string, env: Record<string, string>): string {
  const result = cli(['bootstrap', '--queue-name', queueName, '--dims', '384'], env);
  assert.equal(result.status, 0, result.output);
  const url = /^queue +(\S+)/m.exec(result.output)?.[1];
  assert.ok(url, result.output);
  return url;
}

async function queueUrl(name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch {
    return undefined;
  }
}

// Names the docs fix; a replay never deletes what it did not make, so it stops if they exist.
const fixedQueues = ['tickets', 'tickets-dlq', 'documents-reindex', 'documents-reindex-dlq'];
const fixedIndices = ['tickets'];
const madeQueues = new Set<string>();
const madeBuckets = new Set<string>();
const madeIndices = new Set<string>();
/** Set once the fixed names were found free: only then are they this replay's to delete. */
let ownsFixedNames = false;

describe('docs/operations.md replayed against the dev stack', () => {
  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), 'ki-replay-'));
    hubCache = path.join(scratch, 'hub');
    mkdirSync(path.join(hubCache, 'Xenova'), { recursive: true });
    symlinkSync(minilmModel(), path.join(hubCache, 'Xenova', 'all-MiniLM-L6-v2'));
    symlinkSync(e5Model(), path.join(hubCache, 'Xenova', 'e5-small-v2'));
    for (const name of fixedQueues) {
      assert.equal(await queueUrl(name), undefined, `queue ${name} exists on this stack; the replay makes and deletes it: delete it first`);
    }
    for (const name of fixedIndices) {
      assert.deepEqual(await indicesOf(es, name), [], `index ${name} exists on this stack; the replay makes and deletes it: delete it first`);
    }
    ownsFixedNames = true;
  });

  after(async () => {
    for (const name of [...madeQueues, ...(ownsFixedNames ? fixedQueues : [])]) {
      const url = await queueUrl(name);
      if (url !== undefined) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    }
    for (const bucket of madeBuckets) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const object of listed.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
    await deleteIndexFamily(es, [...madeIndices, ...(ownsFixedNames ? fixedIndices : [])]);
    if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  test('"Adding a pipeline": a second pipeline on a prefix of the live bucket gets its own events, the live one keeps its', async () => {
    const bucket = uniqueName('replay-pipeline');
    const live = { S3_BUCKET: bucket, S3_PREFIX: 'contracts/', ELASTICSEARCH_INDEX: `${bucket}-contracts`, EMBEDDING_MODEL: 'Xenova/all-MiniLM-L6-v2' };
    madeBuckets.add(bucket);
    madeQueues.add(`${bucket}-contracts`).add(`${bucket}-contracts-dlq`);
    madeIndices.add(live.ELASTICSEARCH_INDEX);
    const liveUrl = installLive(`${bucket}-contracts`, live);

    const output = replay('adding-a-pipeline', 2, { ...live, SQS_QUEUE_URL: liveUrl });
    assert.match(output, /notification s3:\/\/\S+\/tickets\/\* ObjectCreated\/ObjectRemoved → tickets \(added; other configurations kept\)/);
    assert.match(output, /✓ bucket +s3:\/\/\S+, notifies the queue \(configuration "keda-indexer-tickets"\)/);

    const ticketsUrl = await queueUrl('tickets');
    assert.ok(ticketsUrl);
    const configuration = await readNotification(s3, bucket);
    assert.deepEqual((configuration?.QueueConfigurations ?? []).map((c) => c.Id).sort(), [`keda-indexer-${bucket}-contracts`, 'keda-indexer-tickets']);
    await receivedKeys(liveUrl, 1500);
    await receivedKeys(ticketsUrl, 1500);
    await putObject(bucket, 'contracts/lease.txt', 'a lease');
    await putObject(bucket, 'tickets/T-1.txt', 'a ticket');
    assert.deepEqual(await receivedKeys(liveUrl), ['contracts/lease.txt']);
    assert.deepEqual(await receivedKeys(ticketsUrl), ['tickets/T-1.txt']);

    const doctor = cli(['doctor'], { ...live, SQS_QUEUE_URL: liveUrl });
    assert.equal(doctor.status, 0, doctor.output);
  });

  test('"Change the embedding model": the next version filled beside the live one, verified and flipped, rolled back, the old one deleted', async () => {
    const bucket = uniqueName('replay-model');
    const alias = `${bucket}-documents`;
    const live = { S3_BUCKET: bucket, ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: 'Xenova/all-MiniLM-L6-v2' };
    const [v1, v2] = [`${alias}-v1-all-minilm-l6-v2`, `${alias}-v2-e5-small-v2`];
    madeBuckets.add(bucket);
    madeQueues.add(`${bucket}-documents`).add(`${bucket}-documents-dlq`);
    madeIndices.add(alias);
    const liveUrl = installLive(`${bucket}-documents`, live);
    const keys = ['a.txt', 'reports/b.md', 'c.html'];
    for (const key of keys) await putObject(bucket, key, `text of ${key}`);
    // The live pipeline has indexed them, as a running one would have.
    const indexed = cli(['worker', '--drain'], { ...live, SQS_QUEUE_URL: liveUrl, SQS_WAIT_TIME_SECONDS: '2' });
    assert.equal(indexed.status, 0, indexed.output);
    assert.equal((await chunksByFile(v1)).size, keys.length);
    const before = await readNotification(s3, bucket);
    assert.equal(before?.QueueConfigurations?.length, 1);

    // Steps 1–5: status, create, the reindex queue filled by backfill and drained by a worker of
    // the new model, verify, flip.
    const output = replay('change-the-model', 6, { ...live, SQS_QUEUE_URL: liveUrl });
    assert.match(output, new RegExp(`created ${v2}`));
    assert.match(output, /bucket +skipped \(--skip-bucket\)/);
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v2 });
    assert.deepEqual([...(await chunksByFile(v2)).keys()].sort(), keys.map((key) => `s3://${bucket}/${key}`).sort());
    const reindexUrl = await queueUrl('documents-reindex');
    assert.ok(reindexUrl);
    assert.deepEqual(await queueDepth(reindexUrl), { visible: 0, inFlight: 0, delayed: 0 });
    assert.deepEqual(await readNotification(s3, bucket), before, 'the live notification is left as it was');

    // New uploads keep going to the live pipeline only.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: liveUrl }));
    await putObject(bucket, 'uploaded-later.txt', 'new');
    assert.deepEqual(await receivedKeys(liveUrl), ['uploaded-later.txt']);
    assert.equal((await queueDepth(reindexUrl)).visible, 0);

    // Step 7: roll back.
    replay('roll-back', 1, { ...live, SQS_QUEUE_URL: liveUrl });
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v1 });

    // Forward again (step 5 once more), then step 8: the old version goes, the live one stays.
    const flipped = cli(['reindex', 'flip'], live);
    assert.equal(flipped.status, 0, flipped.output);
    const deleted = replay('delete-the-old-index', 1, { ...live, SQS_QUEUE_URL: liveUrl });
    assert.match(deleted, new RegExp(`deleted ${v1}`));
    assert.deepEqual(await indicesOf(es, v1), []);
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v2 });
  });
});
