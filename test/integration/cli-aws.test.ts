// The "with SQS, S3 and Elasticsearch locally" journey from the README, command by command:
// bootstrap, upload, worker --drain, search, doctor — against moto and Elasticsearch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CLI } from '../support/cli.js';
import { es, keysWithOutcome, queueDepth, sqs, uniqueName } from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const queueName = uniqueName('journey');
const bucket = uniqueName('journey-docs');
const index = uniqueName('journey-index');
let queueUrl = '';

function cli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, ELASTICSEARCH_INDEX: index, S3_BUCKET: bucket, SQS_QUEUE_URL: queueUrl, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bootstrap → upload → worker → search → doctor', () => {
  after(async () => {
    await deleteIndexFamily(es, index);
  });

  test('bootstrap creates everything, and a second run changes nothing', async () => {
    const first = cli(['bootstrap', '--queue-name', queueName]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`bucket +s3://${bucket} \\(created\\)`));
    // ELASTICSEARCH_INDEX is an alias over its first version, made for the model.
    assert.match(first.stdout, new RegExp(`index +${index} → ${index}-v1-all-minilm-l6-v2 \\(created, 384 dims\\)`));
    queueUrl = /export SQS_QUEUE_URL=(\S+)/.exec(first.stdout)?.[1] ?? '';
    assert.notEqual(queueUrl, '');

    const second = cli(['bootstrap', '--queue-name', queueName, '--dims', '384']);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /\(exists\)/);
    assert.match(second.stdout, new RegExp(`index +${index} → ${index}-v1-all-minilm-l6-v2 \\(exists, 384 dims\\)`));

    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
    const redrive = JSON.parse(attributes.Attributes?.RedrivePolicy ?? '{}') as { maxReceiveCount?: number; deadLetterTargetArn?: string };
    assert.equal(redrive.maxReceiveCount, 10);
    assert.match(redrive.deadLetterTargetArn ?? '', new RegExp(`${queueName}-dlq$`));
  });

  test('doctor passes on what bootstrap made', () => {
    const result = cli(['doctor']);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ bucket +s3:\/\/\S+, notifies the queue/);
    assert.match(result.stdout, new RegExp(`✓ index +${index} → ${index}-v1-all-minilm-l6-v2: 384 dims, matches the model`));
  });

  test('upload relies on the bucket notification, and the worker indexes what S3 announced', async () => {
    const upload = cli(['upload', examples]);
    assert.equal(upload.status, 0, upload.stderr);
    assert.match(upload.stdout, new RegExp(`not enqueued: the bucket's notification \\(keda-indexer-${queueName}\\) announces every uploaded key's creation on ${queueUrl}`));
    assert.equal((upload.stdout.match(/^uploaded /gm) ?? []).length, 5);

    const worker = cli(['worker', '--drain']);
    assert.equal(worker.status, 0, worker.stderr);
    // Keys, not lines: SQS may hand a message out twice.
    assert.equal(keysWithOutcome(worker.stderr, 'indexed').length, 5, worker.stderr);
    assert.deepEqual(await queueDepth(queueUrl), { visible: 0, inFlight: 0, delayed: 0 });

    await es.indices.refresh({ index });
    const search = cli(['search', 'How do bees turn nectar into honey?', '--k', '3', '--json']);
    assert.equal(search.status, 0, search.stderr);
    const hits = JSON.parse(search.stdout) as { file_path: string; score: number }[];
    assert.equal(hits[0]?.file_path, `s3://${bucket}/honey-bees.docx`);
  });

  test('upload to a bucket without a notification enqueues a message per file', () => {
    const quiet = uniqueName('quiet');
    assert.equal(cli(['bootstrap', '--queue-name', `${quiet}-q`, '--bucket', quiet, '--skip-index']).status, 0);
    // The quiet bucket notifies its own queue, not ours: upload must enqueue on ours.
    const result = cli(['upload', `${examples}volcanoes.txt`], { S3_BUCKET: quiet });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /enqueued {2}1 message\(s\)/);
  });

  test('upload enqueues itself when the notification to the queue does not take the keys it uploads (another prefix)', () => {
    const scoped = uniqueName('scoped');
    const made = cli(['bootstrap', '--queue-name', `${scoped}-q`, '--bucket', scoped, '--skip-index'], { S3_PREFIX: 'reports/' });
    assert.equal(made.status, 0, made.stderr);
    const scopedUrl = /^export SQS_QUEUE_URL=(\S+)$/m.exec(made.stdout)?.[1];
    assert.ok(scopedUrl, made.stdout);
    const env = { S3_BUCKET: scoped, SQS_QUEUE_URL: scopedUrl };
    const outside = cli(['upload', `${examples}volcanoes.txt`], { ...env, S3_PREFIX: '' });
    assert.equal(outside.status, 0, outside.stderr);
    assert.match(outside.stdout, /enqueued {2}1 message\(s\)/);
    const inside = cli(['upload', `${examples}volcanoes.txt`], { ...env, S3_PREFIX: 'reports/' });
    assert.equal(inside.status, 0, inside.stderr);
    assert.match(inside.stdout, /not enqueued: the bucket's notification \(keda-indexer-\S+-q\) announces/);
  });

  test('doctor names what is wrong and how to fix it', () => {
    const result = cli(['doctor'], { ELASTICSEARCH_URL: 'http://127.0.0.1:1', SQS_QUEUE_URL: '' });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /✗ queue +SQS_QUEUE_URL is not set\n {2}fix: run `keda-indexer bootstrap`/);
    assert.match(result.stdout, /✗ elasticsearch .*\n {2}fix: check ELASTICSEARCH_URL/);
  });
});
