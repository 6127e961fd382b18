// Creating and inspecting the AWS side of the pipeline: the queue with its dead-letter queue and
// redrive policy, the bucket and its S3 → SQS notification (merged into the bucket's others). Used by `bootstrap`, `upload` and
// `doctor`; every operation is idempotent.
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  S3ServiceException,
  type Event,
  type NotificationConfiguration,
  type NotificationConfigurationFilter,
  type QueueConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface QueueSetup {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
}

export async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const response = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = response.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  // Without attributes CreateQueue returns the existing queue's URL; attributes are set after,
  // so a re-run converges instead of failing on "already exists with different attributes".
  const response = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (response.QueueUrl === undefined) throw new Error(`CreateQueue ${name} returned no URL`);
  return response.QueueUrl;
}

/** The account in an ARN (arn:aws:sqs:region:account:name). */
export function accountOfArn(arn: string): string {
  const account = arn.split(':')[4];
  if (account === undefined || !/^\d{12}$/.test(account)) throw new Error(`no account id in ${arn}`);
  return account;
}

/**
 * The queue's resource policy: S3 may send to it on behalf of this bucket in this account only.
 * aws:SourceArn alone names a bucket, and bucket names are global: were the bucket deleted and its
 * name taken by someone else's account, their notifications would still match. aws:SourceAccount
 * pins the owner (AWS's confused-deputy guidance for S3 → SQS).
 */
export function queuePolicyFor(queueArn: string, bucket: string, bucketAccount: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'keda-indexer-s3-notifications',
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: {
          ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${bucket}` },
          StringEquals: { 'aws:SourceAccount': bucketAccount },
        },
      },
    ],
  });
}

export async function ensureQueues(
  sqs: SQSClient,
  options: {
    name: string;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    bucket?: string;
    /** The bucket owner's account; default: the queue's (bootstrap makes both with one set of credentials). */
    bucketAccount?: string;
  },
): Promise<QueueSetup> {
  const deadLetterUrl = await createQueue(sqs, `${options.name}-dlq`);
  await sqs.send(
    new SetQueueAttributesCommand({ QueueUrl: deadLetterUrl, Attributes: { MessageRetentionPeriod: String(14 * 24 * 3600) } }),
  );
  const deadLetterArn = await queueArnOf(sqs, deadLetterUrl);
  const queueUrl = await createQueue(sqs, options.name);
  const queueArn = await queueArnOf(sqs, queueUrl);
  const attributes: Record<string, string> = {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: options.maxReceiveCount }),
  };
  if (options.bucket !== undefined) {
    attributes.Policy = queuePolicyFor(queueArn, options.bucket, options.bucketAccount ?? accountOfArn(queueArn));
  }
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
  return { queueUrl, queueArn, deadLetterUrl, deadLetterArn };
}

export async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<'created' | 'exists'> {
  // Asked first: in us-east-1 CreateBucket answers 200 for a bucket one already owns.
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return 'exists';
  } catch (error) {
    if (!(error instanceof S3ServiceException) || error.$metadata.httpStatusCode !== 404) throw error;
  }
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(region === '' || region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }),
    );
    return 'created';
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'BucketAlreadyOwnedByYou' || error.name === 'BucketAlreadyExists')) {
      if (error.name === 'BucketAlreadyExists') throw new Error(`bucket ${bucket} exists and belongs to someone else; choose another name`, { cause: error });
      return 'exists';
    }
    throw error;
  }
}

export async function notificationTargets(s3: S3Client, bucket: string): Promise<QueueConfiguration[]> {
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  return current.QueueConfigurations ?? [];
}

/** The events bootstrap asks for: every object written and every object removed. */
export const NOTIFICATION_EVENTS: readonly Event[] = ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'];

/**
 * With S3_READ_TAGS, every change of an object's tags too: its metadata is re-indexed in place,
 * nothing embedded (docs/operations.md). Without, tags are not read, and their events would only
 * cost a metadata check each.
 */
export function notificationEvents(readTags: boolean): readonly Event[] {
  return readTags ? [...NOTIFICATION_EVENTS, 's3:ObjectTagging:*'] : NOTIFICATION_EVENTS;
}

/**
 * The Id of the queue configuration bootstrap owns for `queueName`: one per queue, so pipelines
 * (and a reindex queue) on one bucket each keep their own. Before, every bootstrap wrote the
 * single Id `keda-indexer`, and the last one run took the bucket's events from the others.
 */
export function notificationIdFor(queueName: string): string {
  return `${LEGACY_NOTIFICATION_ID}-${queueName}`;
}

/** The Id every bootstrap wrote before ids were per queue; still recognised as bootstrap's own when it points at this queue. */
export const LEGACY_NOTIFICATION_ID = 'keda-indexer';

/** One configuration of a bucket's notification, whatever its destination. */
export interface NotificationEntry {
  readonly id: string;
  readonly destination: string;
  readonly events: readonly string[];
  readonly prefix: string;
  readonly suffix: string;
}

function keyFilter(filter: NotificationConfigurationFilter | undefined): { prefix: string; suffix: string } {
  const rules = filter?.Key?.FilterRules ?? [];
  // S3 answers "Prefix"/"Suffix" where requests say "prefix"/"suffix".
  const value = (name: string) => rules.find((rule) => rule.Name?.toLowerCase() === name)?.Value ?? '';
  return { prefix: value('prefix'), suffix: value('suffix') };
}

/** Every queue, topic and Lambda configuration of a bucket (EventBridge has no filters, so it overlaps nothing). */
export function notificationEntries(configuration: NotificationConfiguration): NotificationEntry[] {
  const entry = (id: string | undefined, destination: string | undefined, events: readonly string[] | undefined, filter: NotificationConfigurationFilter | undefined) => ({
    id: id ?? '',
    destination: destination ?? '',
    events: events ?? [],
    ...keyFilter(filter),
  });
  return [
    ...(configuration.QueueConfigurations ?? []).map((c) => entry(c.Id, c.QueueArn, c.Events, c.Filter)),
    ...(configuration.TopicConfigurations ?? []).map((c) => entry(c.Id, c.TopicArn, c.Events, c.Filter)),
    ...(configuration.LambdaFunctionConfigurations ?? []).map((c) => entry(c.Id, c.LambdaFunctionArn, c.Events, c.Filter)),
  ];
}

/** Two event types overlap when they are equal or one is a wildcard (`s3:ObjectCreated:*`) over the other. */
export function eventsOverlap(a: string, b: string): boolean {
  const covers = (wide: string, narrow: string) => wide.endsWith('*') && narrow.startsWith(wide.slice(0, -1));
  return a === b || covers(a, b) || covers(b, a);
}

/**
 * S3's rule for configurations of one bucket (Amazon S3 User Guide, "Configuring event
 * notifications using object key name filtering"): two configurations may not share an event type
 * when some key can match both filters, i.e. one prefix starts the other and one suffix ends the
 * other (an absent prefix or suffix matches every key). S3 rejects such a configuration with
 * "Configurations overlap"; bootstrap says so first, with the fix.
 */
export function entriesOverlap(a: Omit<NotificationEntry, 'id' | 'destination'>, b: Omit<NotificationEntry, 'id' | 'destination'>): boolean {
  const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const suffixes = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
  return prefixes && suffixes && a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
}

/**
 * True when `entry` sends the creation of `key` to its destination: an `s3:ObjectCreated:*` (or
 * `s3:ObjectCreated:Put`) event type, and the key within its prefix and suffix filters.
 */
export function notifiesCreationOf(entry: Omit<NotificationEntry, 'id' | 'destination'>, key: string): boolean {
  return key.startsWith(entry.prefix) && key.endsWith(entry.suffix) && entry.events.some((event) => eventsOverlap(event, 's3:ObjectCreated:Put'));
}

/** The queue name at the end of an SQS ARN (arn:aws:sqs:region:account:name). */
function queueNameOfArn(arn: string): string {
  return arn.startsWith('arn:') ? (arn.split(':').at(-1) ?? '') : '';
}

export interface NotificationWanted {
  readonly queueName: string;
  /** Unknown before the queue exists: a plan made for a check only. */
  readonly queueArn: string;
  readonly prefix: string;
  /** S3_READ_TAGS: tag changes are subscribed too. */
  readonly readTags?: boolean;
}

export type NotificationPlan =
  /** Write `configuration`: everything else on the bucket as it was, and bootstrap's entry for this queue. */
  | { readonly kind: 'put'; readonly configuration: NotificationConfiguration; readonly outcome: 'added' | 'updated' }
  | { readonly kind: 'unchanged' }
  /** Another configuration already sends these events to this very queue; it is left as it is. */
  | { readonly kind: 'covered'; readonly by: NotificationEntry }
  | { readonly kind: 'conflict'; readonly with: readonly NotificationEntry[] };

/**
 * Merges bootstrap's configuration for one queue into a bucket's notification. Its own entry is
 * the one with its Id (or the legacy Id pointing at the same queue); everything else (queue, topic,
 * Lambda and EventBridge configurations) is written back unchanged.
 */
export function planNotification(current: NotificationConfiguration, wanted: NotificationWanted): NotificationPlan {
  const id = notificationIdFor(wanted.queueName);
  const isOwn = (config: QueueConfiguration) =>
    config.Id === id || (config.Id === LEGACY_NOTIFICATION_ID && queueNameOfArn(config.QueueArn ?? '') === wanted.queueName);
  const queues = current.QueueConfigurations ?? [];
  const own = queues.filter(isOwn);
  const events = notificationEvents(wanted.readTags === true);
  const ours: NotificationEntry = { id, destination: wanted.queueArn, events, prefix: wanted.prefix, suffix: '' };

  const others = notificationEntries({ ...current, QueueConfigurations: queues.filter((config) => !isOwn(config)) });
  const overlapping = others.filter((entry) => entriesOverlap(entry, ours));
  const sameQueue = overlapping.find((entry) => queueNameOfArn(entry.destination) === wanted.queueName);
  if (sameQueue !== undefined) return { kind: 'covered', by: sameQueue };
  if (overlapping.length > 0) return { kind: 'conflict', with: overlapping };

  const [existing] = notificationEntries({ QueueConfigurations: own });
  if (
    own.length === 1 &&
    existing !== undefined &&
    existing.id === id &&
    existing.destination === wanted.queueArn &&
    existing.prefix === ours.prefix &&
    existing.suffix === '' &&
    [...existing.events].sort().join() === [...ours.events].sort().join()
  ) {
    return { kind: 'unchanged' };
  }
  const configuration: QueueConfiguration = {
    Id: id,
    QueueArn: wanted.queueArn,
    Events: [...events],
    ...(wanted.prefix === '' ? {} : { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: wanted.prefix }] } } }),
  };
  return {
    kind: 'put',
    outcome: own.length === 0 ? 'added' : 'updated',
    configuration: {
      QueueConfigurations: [...queues.filter((config) => !isOwn(config)), configuration],
      ...(current.TopicConfigurations ? { TopicConfigurations: current.TopicConfigurations } : {}),
      ...(current.LambdaFunctionConfigurations ? { LambdaFunctionConfigurations: current.LambdaFunctionConfigurations } : {}),
      ...(current.EventBridgeConfiguration ? { EventBridgeConfiguration: current.EventBridgeConfiguration } : {}),
    },
  };
}

/** The bucket's notification configuration; undefined when the bucket does not exist (yet). */
export async function readNotification(s3: S3Client, bucket: string): Promise<NotificationConfiguration | undefined> {
  try {
    const response = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    return {
      ...(response.QueueConfigurations ? { QueueConfigurations: response.QueueConfigurations } : {}),
      ...(response.TopicConfigurations ? { TopicConfigurations: response.TopicConfigurations } : {}),
      ...(response.LambdaFunctionConfigurations ? { LambdaFunctionConfigurations: response.LambdaFunctionConfigurations } : {}),
      ...(response.EventBridgeConfiguration ? { EventBridgeConfiguration: response.EventBridgeConfiguration } : {}),
    };
  } catch (error) {
    if (error instanceof S3ServiceException && (error.name === 'NoSuchBucket' || error.$metadata.httpStatusCode === 404)) return undefined;
    throw error;
  }
}

/** Adds or updates bootstrap's configuration for the queue, leaving every other one alone; throws the plan's conflict. */
export async function ensureNotification(s3: S3Client, bucket: string, wanted: NotificationWanted): Promise<NotificationPlan> {
  const plan = planNotification((await readNotification(s3, bucket)) ?? {}, wanted);
  if (plan.kind === 'put') {
    await s3.send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: plan.configuration }));
  }
  return plan;
}
