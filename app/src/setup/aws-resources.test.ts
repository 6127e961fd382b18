// The merge and overlap rules of bootstrap's bucket notification, without S3 (moto accepts
// overlapping configurations, so these rules are checked here; test/integration covers the calls).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FilterRuleName, NotificationConfiguration } from '@aws-sdk/client-s3';
import { accountOfArn, entriesOverlap, eventsOverlap, planNotification, queuePolicyFor } from './aws-resources.js';

const entry = (events: string[], prefix = '', suffix = '') => ({ events, prefix, suffix });
const created = ['s3:ObjectCreated:*'];

test('event types overlap when equal or when a wildcard covers the other', () => {
  assert.equal(eventsOverlap('s3:ObjectCreated:*', 's3:ObjectCreated:Put'), true);
  assert.equal(eventsOverlap('s3:ObjectCreated:Put', 's3:ObjectCreated:*'), true);
  assert.equal(eventsOverlap('s3:ObjectCreated:Put', 's3:ObjectCreated:Put'), true);
  assert.equal(eventsOverlap('s3:ObjectCreated:Put', 's3:ObjectCreated:Copy'), false);
  assert.equal(eventsOverlap('s3:ObjectCreated:*', 's3:ObjectRemoved:*'), false);
});

test("S3's overlap rule: shared event type, one prefix starts the other, one suffix ends the other", () => {
  // The User Guide's examples: overlapping prefixes, overlapping suffixes, a prefix and a suffix
  // both matching one key; and the valid ones: disjoint prefixes, disjoint suffixes, other events.
  assert.equal(entriesOverlap(entry(created, 'images/'), entry(created, 'images/thumbs/')), true);
  assert.equal(entriesOverlap(entry(created, '', 'jpg'), entry(created, '', '.jpg')), true);
  assert.equal(entriesOverlap(entry(created, 'images/'), entry(created, '', '.jpg')), true);
  assert.equal(entriesOverlap(entry(created), entry(created, 'tickets/')), true);
  assert.equal(entriesOverlap(entry(created, 'contracts/'), entry(created, 'tickets/')), false);
  assert.equal(entriesOverlap(entry(created, 'images/', '.jpg'), entry(created, 'images/', '.png')), false);
  assert.equal(entriesOverlap(entry(['s3:ObjectRemoved:*']), entry(created)), false);
});

const live: NotificationConfiguration = {
  QueueConfigurations: [
    {
      Id: 'keda-indexer-contracts',
      QueueArn: 'arn:aws:sqs:eu-west-1:111122223333:contracts',
      Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
      Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'contracts/' }] } },
    },
  ],
  // S3 answers "Prefix" where the SDK's type (and a request) says "prefix".
  TopicConfigurations: [{ Id: 'audit', TopicArn: 'arn:aws:sns:eu-west-1:111122223333:audit', Events: ['s3:ObjectRemoved:Delete'], Filter: { Key: { FilterRules: [{ Name: 'Prefix' as FilterRuleName, Value: 'audit/' }] } } }],
  EventBridgeConfiguration: {},
};

test('a queue on another prefix is added beside every other configuration', () => {
  const plan = planNotification(live, { queueName: 'tickets', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:tickets', prefix: 'tickets/' });
  assert.equal(plan.kind, 'put');
  assert.equal(plan.outcome, 'added');
  assert.deepEqual(plan.configuration.QueueConfigurations?.map((c) => c.Id), ['keda-indexer-contracts', 'keda-indexer-tickets']);
  assert.deepEqual(plan.configuration.TopicConfigurations, live.TopicConfigurations);
  assert.deepEqual(plan.configuration.EventBridgeConfiguration, {});
});

test('its own entry, as wanted, is unchanged; with another prefix it is updated in place', () => {
  const wanted = { queueName: 'contracts', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:contracts', prefix: 'contracts/' };
  assert.deepEqual(planNotification(live, wanted), { kind: 'unchanged' });
  const plan = planNotification(live, { ...wanted, prefix: 'contracts/2024/' });
  assert.equal(plan.kind, 'put');
  assert.equal(plan.outcome, 'updated');
  assert.equal(plan.configuration.QueueConfigurations?.length, 1);
});

test('with S3_READ_TAGS its entry also subscribes tag changes; without, it does not', () => {
  const wanted = { queueName: 'contracts', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:contracts', prefix: 'contracts/' };
  const plan = planNotification(live, { ...wanted, readTags: true });
  assert.equal(plan.kind, 'put');
  assert.deepEqual(plan.configuration.QueueConfigurations?.[0]?.Events, ['s3:ObjectCreated:*', 's3:ObjectRemoved:*', 's3:ObjectTagging:*']);
  assert.deepEqual(planNotification(live, { ...wanted, readTags: false }), { kind: 'unchanged' });
});

test('a whole-bucket queue beside a prefixed one is a conflict naming it', () => {
  const plan = planNotification(live, { queueName: 'documents-reindex', queueArn: '', prefix: '' });
  assert.equal(plan.kind, 'conflict');
  // The topic's ObjectRemoved:Delete under audit/ (S3 answers "Prefix") overlaps ObjectRemoved:* on every key too.
  assert.deepEqual(plan.with.map((e) => e.id), ['keda-indexer-contracts', 'audit']);
});

test('another configuration already sending these events to the same queue is left alone', () => {
  const terraform: NotificationConfiguration = {
    QueueConfigurations: [{ Id: 'tf-docs', QueueArn: 'arn:aws:sqs:eu-west-1:111122223333:docs', Events: ['s3:ObjectCreated:*'] }],
  };
  const plan = planNotification(terraform, { queueName: 'docs', queueArn: 'arn:aws:sqs:eu-west-1:111122223333:docs', prefix: '' });
  assert.equal(plan.kind, 'covered');
});

test('the queue policy lets S3 send for this bucket of this account only (aws:SourceArn and aws:SourceAccount)', () => {
  const policy = JSON.parse(queuePolicyFor('arn:aws:sqs:eu-west-1:111122223333:docs', 'docs', '111122223333')) as {
    Statement: { Effect: string; Principal: unknown; Action: string; Resource: string; Condition: unknown }[];
  };
  assert.equal(policy.Statement.length, 1);
  const [statement] = policy.Statement;
  assert.deepEqual(statement, {
    Sid: 'keda-indexer-s3-notifications',
    Effect: 'Allow',
    Principal: { Service: 's3.amazonaws.com' },
    Action: 'sqs:SendMessage',
    Resource: 'arn:aws:sqs:eu-west-1:111122223333:docs',
    Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::docs' }, StringEquals: { 'aws:SourceAccount': '111122223333' } },
  });
});

test('accountOfArn reads the account of a queue ARN, and refuses an ARN without one', () => {
  assert.equal(accountOfArn('arn:aws:sqs:us-east-1:123456789012:q'), '123456789012');
  assert.throws(() => accountOfArn('arn:aws:s3:::docs'), /no account id/);
});
