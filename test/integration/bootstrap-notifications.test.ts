// `bootstrap` and the bucket's notification, against moto: it merges its configuration (one per
// queue) into the bucket's others, refuses what S3 would reject as overlapping before changing
// anything, leaves the bucket alone with --skip-bucket; `doctor` fails when the bucket does not
// notify the queue. moto itself accepts overlapping configurations, so the refusals seen here are
// bootstrap's own.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { HeadBucketCommand, PutBucketNotificationConfigurationCommand, type NotificationConfiguration } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { readNotification } from '../../app/src/setup/aws-resources.js';
import { CLI } from '../support/cli.js';
import { createBucket, putObject, receivedKeys, s3, sqs, uniqueName } from '../support/stack.js';

function cli(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, SQS_QUEUE_URL: '', S3_PREFIX: '', HTTP_PORT: '0', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function queueUrlOf(stdout: string): string {
  const url = /^queue +(\S+)/m.exec(stdout)?.[1];
  assert.ok(url, stdout);
  return url;
}

async function notification(bucket: string): Promise<NotificationConfiguration> {
  const configuration = await readNotification(s3, bucket);
  assert.ok(configuration, `bucket ${bucket} exists`);
  return configuration;
}

async function queueExists(name: string): Promise<boolean> {
  try {
    await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return true;
  } catch {
    return false;
  }
}

describe('bootstrap merges its notification into the bucket', () => {
  test('two pipelines on one bucket with different prefixes both receive their events; a topic configuration is kept', async () => {
    const bucket = uniqueName('two-pipelines');
    await createBucket(bucket);
    // Someone else's configuration, which bootstrap must write back as it was.
    const topic = {
      Id: 'archive-to-sns',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:archive',
      Events: ['s3:ObjectCreated:*' as const],
      Filter: { Key: { FilterRules: [{ Name: 'prefix' as const, Value: 'archive/' }, { Name: 'suffix' as const, Value: '.zip' }] } },
    };
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { TopicConfigurations: [topic] } }));

    const contracts = cli(['bootstrap', '--queue-name', `${bucket}-contracts`, '--skip-index'], { S3_BUCKET: bucket, S3_PREFIX: 'contracts/' });
    assert.equal(contracts.status, 0, contracts.stderr);
    assert.match(contracts.stdout, /notification .*→ \S+-contracts \(added; other configurations kept\)/);
    const tickets = cli(['bootstrap', '--queue-name', `${bucket}-tickets`, '--skip-index'], { S3_BUCKET: bucket, S3_PREFIX: 'tickets/' });
    assert.equal(tickets.status, 0, tickets.stderr);
    const contractsUrl = queueUrlOf(contracts.stdout);
    const ticketsUrl = queueUrlOf(tickets.stdout);

    // Idempotent: a re-run finds its own entry as it wants it and writes nothing.
    const again = cli(['bootstrap', '--queue-name', `${bucket}-contracts`, '--skip-index'], { S3_BUCKET: bucket, S3_PREFIX: 'contracts/' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /\(unchanged; other configurations kept\)/);

    const configuration = await notification(bucket);
    assert.deepEqual(configuration.TopicConfigurations, [topic]);
    assert.deepEqual(
      (configuration.QueueConfigurations ?? []).map((c) => [c.Id, c.Filter?.Key?.FilterRules?.map((r) => r.Value)]).sort(),
      [
        [`keda-indexer-${bucket}-contracts`, ['contracts/']],
        [`keda-indexer-${bucket}-tickets`, ['tickets/']],
      ],
    );

    await receivedKeys(contractsUrl, 1500); // s3:TestEvent(s) from moto
    await receivedKeys(ticketsUrl, 1500);
    await putObject(bucket, 'contracts/lease 2024.txt', 'a lease');
    await putObject(bucket, 'tickets/T-1.txt', 'a ticket');
    await putObject(bucket, 'elsewhere/x.txt', 'neither');
    assert.deepEqual(await receivedKeys(contractsUrl), ['contracts/lease 2024.txt']);
    assert.deepEqual(await receivedKeys(ticketsUrl), ['tickets/T-1.txt']);
  });

  test('a reindex bootstrap (--queue-name X --skip-index) with S3_BUCKET set is refused and leaves the live notification in place; --skip-bucket makes its queue', async () => {
    const bucket = uniqueName('live');
    const live = cli(['bootstrap', '--queue-name', `${bucket}-docs`, '--skip-index'], { S3_BUCKET: bucket });
    assert.equal(live.status, 0, live.stderr);
    const liveUrl = queueUrlOf(live.stdout);
    const before = await notification(bucket);

    const reindex = cli(['bootstrap', '--queue-name', `${bucket}-reindex`, '--skip-index'], { S3_BUCKET: bucket, SQS_QUEUE_URL: liveUrl });
    assert.equal(reindex.status, 1, reindex.stdout + reindex.stderr);
    assert.match(reindex.stderr, /S3 refuses configurations whose event types and prefix\/suffix overlap/);
    assert.match(reindex.stderr, new RegExp(`configuration "keda-indexer-${bucket}-docs" sends s3:ObjectCreated:\\*, s3:ObjectRemoved:\\* for every key`));
    assert.match(reindex.stderr, /Fix: .*add --skip-bucket/);
    assert.equal(await queueExists(`${bucket}-reindex`), false, 'refused before creating anything');
    assert.deepEqual(await notification(bucket), before);

    const skipped = cli(['bootstrap', '--queue-name', `${bucket}-reindex`, '--skip-index', '--skip-bucket'], { S3_BUCKET: bucket, SQS_QUEUE_URL: liveUrl });
    assert.equal(skipped.status, 0, skipped.stderr);
    assert.match(skipped.stdout, /bucket +skipped \(--skip-bucket\)/);
    assert.doesNotMatch(skipped.stdout, /^notification/m);
    const reindexUrl = queueUrlOf(skipped.stdout);
    assert.deepEqual(await notification(bucket), before);

    await receivedKeys(liveUrl, 1500);
    await putObject(bucket, 'new.txt', 'uploaded after the reindex queue was made');
    assert.deepEqual(await receivedKeys(liveUrl), ['new.txt']);
    assert.deepEqual(await receivedKeys(reindexUrl, 1500), []);
  });

  test('an overlapping configuration of another kind (a Lambda on *.pdf) is refused, with nothing made', async () => {
    const bucket = uniqueName('lambda');
    await createBucket(bucket);
    const lambda = {
      Id: 'thumbnails',
      LambdaFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:thumbnails',
      Events: ['s3:ObjectCreated:Put' as const],
      Filter: { Key: { FilterRules: [{ Name: 'suffix' as const, Value: '.pdf' }] } },
    };
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { LambdaFunctionConfigurations: [lambda] } }));

    // tickets/x.pdf would match both: same event type (ObjectCreated:* covers :Put), prefixes and suffixes overlap.
    const refused = cli(['bootstrap', '--queue-name', `${bucket}-tickets`, '--skip-index'], { S3_BUCKET: bucket, S3_PREFIX: 'tickets/' });
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /configuration "thumbnails" sends s3:ObjectCreated:Put for every key ending "\.pdf" to arn:aws:lambda/);
    assert.equal(await queueExists(`${bucket}-tickets`), false);
    assert.deepEqual((await notification(bucket)).LambdaFunctionConfigurations, [lambda]);
  });

  test('the Id every bootstrap wrote before (keda-indexer) is taken over for its own queue, not refused', async () => {
    const bucket = uniqueName('legacy');
    const first = cli(['bootstrap', '--queue-name', `${bucket}-docs`, '--skip-index'], { S3_BUCKET: bucket });
    assert.equal(first.status, 0, first.stderr);
    const current = await notification(bucket);
    const [own] = current.QueueConfigurations ?? [];
    assert.ok(own);
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: { QueueConfigurations: [{ ...own, Id: 'keda-indexer' }] } }));

    const again = cli(['bootstrap', '--queue-name', `${bucket}-docs`, '--skip-index'], { S3_BUCKET: bucket });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /\(updated; other configurations kept\)/);
    assert.deepEqual((await notification(bucket)).QueueConfigurations?.map((c) => c.Id), [`keda-indexer-${bucket}-docs`]);
  });

  test('--skip-bucket creates no bucket and no notification', async () => {
    const bucket = uniqueName('never-made');
    const result = cli(['bootstrap', '--queue-name', `${bucket}-q`, '--skip-index', '--skip-bucket'], { S3_BUCKET: bucket });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(await queueExists(`${bucket}-q`), true);
    await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: bucket })), (error: Error) => error.name === 'NotFound' || error.name === 'NoSuchBucket');
  });
});

describe('doctor and the bucket notification', () => {
  test('fails (rc 1) when the bucket does not notify the configured queue, passes when it does', () => {
    const bucket = uniqueName('doctor');
    const live = cli(['bootstrap', '--queue-name', `${bucket}-docs`, '--skip-index'], { S3_BUCKET: bucket });
    assert.equal(live.status, 0, live.stderr);
    const quiet = cli(['bootstrap', '--queue-name', `${bucket}-quiet`, '--skip-index', '--skip-bucket'], { S3_BUCKET: bucket });
    assert.equal(quiet.status, 0, quiet.stderr);
    // No Elasticsearch: the checks left are settings, AWS, queue, dead-letter queue, bucket, model.
    const env = { S3_BUCKET: bucket, ELASTICSEARCH_URL: '' };

    const failing = cli(['doctor'], { ...env, SQS_QUEUE_URL: queueUrlOf(quiet.stdout) });
    assert.equal(failing.status, 1, failing.stdout + failing.stderr);
    assert.match(failing.stdout, new RegExp(`✗ bucket +s3://${bucket} does not notify the queue`));
    assert.match(failing.stdout, /\n {2}fix: run `keda-indexer bootstrap`/);
    assert.match(failing.stdout, /\n1 check\(s\) failed\.\n$/);

    const passing = cli(['doctor'], { ...env, SQS_QUEUE_URL: queueUrlOf(live.stdout) });
    assert.equal(passing.status, 0, passing.stdout + passing.stderr);
    assert.match(passing.stdout, new RegExp(`✓ bucket +s3://${bucket}, notifies the queue \\(configuration "keda-indexer-${bucket}-docs"\\)`));
  });
});

describe('bootstrap\'s queue policy', () => {
  test("the queue policy names the bucket and its owner's account (aws:SourceArn, aws:SourceAccount); --bucket-account overrides the queue's", async () => {
    const bucket = uniqueName('policy');
    const policyOf = async (name: string) => {
      const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
      const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['Policy', 'QueueArn'] }));
      const policy = JSON.parse(attributes.Attributes?.Policy ?? '{}') as { Statement?: { Condition?: Record<string, Record<string, string>> }[] };
      return { arn: attributes.Attributes?.QueueArn ?? '', condition: policy.Statement?.[0]?.Condition };
    };
    const made = cli(['bootstrap', '--queue-name', `${bucket}-q`, '--skip-index'], { S3_BUCKET: bucket });
    assert.equal(made.status, 0, made.stderr);
    const first = await policyOf(`${bucket}-q`);
    const account = first.arn.split(':')[4];
    assert.match(account ?? '', /^\d{12}$/);
    assert.deepEqual(first.condition, { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${bucket}` }, StringEquals: { 'aws:SourceAccount': account } });

    const other = cli(['bootstrap', '--queue-name', `${bucket}-q`, '--skip-index', '--bucket-account', '210987654321'], { S3_BUCKET: bucket });
    assert.equal(other.status, 0, other.stderr);
    assert.deepEqual((await policyOf(`${bucket}-q`)).condition?.StringEquals, { 'aws:SourceAccount': '210987654321' });

    const bad = cli(['bootstrap', '--queue-name', `${bucket}-q`, '--skip-index', '--bucket-account', '12ab'], { S3_BUCKET: bucket });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--bucket-account.*12-digit/);
  });
});
