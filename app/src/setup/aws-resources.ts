// Creating and inspecting the AWS side of the pipeline: the queue with its dead-letter queue and
// redrive policy, the bucket and its S3 → SQS notification. Used by `bootstrap`, `upload` and
// `doctor`; every operation is idempotent.
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  S3ServiceException,
  type QueueConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The notification id bootstrap owns; other notifications on the bucket are left alone. */
export const NOTIFICATION_ID = 'keda-indexer';

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

export async function ensureQueues(
  sqs: SQSClient,
  options: { name: string; visibilityTimeoutSeconds: number; maxReceiveCount: number; bucket?: string },
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
    // S3 may only send to the queue on behalf of this bucket.
    attributes.Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'keda-indexer-s3-notifications',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${options.bucket}` } },
        },
      ],
    });
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

/** Points ObjectCreated and ObjectRemoved events of `bucket` (under `prefix`) at the queue. */
export async function ensureNotification(s3: S3Client, bucket: string, queueArn: string, prefix: string): Promise<void> {
  const current = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  const ours: QueueConfiguration = {
    Id: NOTIFICATION_ID,
    QueueArn: queueArn,
    Events: ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'],
    ...(prefix === '' ? {} : { Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }] } } }),
  };
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [...(current.QueueConfigurations ?? []).filter((config) => config.Id !== NOTIFICATION_ID), ours],
        ...(current.TopicConfigurations ? { TopicConfigurations: current.TopicConfigurations } : {}),
        ...(current.LambdaFunctionConfigurations ? { LambdaFunctionConfigurations: current.LambdaFunctionConfigurations } : {}),
        ...(current.EventBridgeConfiguration ? { EventBridgeConfiguration: current.EventBridgeConfiguration } : {}),
      },
    }),
  );
}
