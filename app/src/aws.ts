// AWS clients built the same way for every command: the SDK's own credential chain, region
// resolution, retry strategy and AWS_ENDPOINT_URL handling; path-style S3 for emulators.
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Settings } from './config/config.js';

type AwsSettings = Settings['aws'];

function common(settings: AwsSettings) {
  return {
    ...(settings.region === '' ? {} : { region: settings.region }),
    ...(settings.endpoint === '' ? {} : { endpoint: settings.endpoint }),
    retryMode: 'standard',
    maxAttempts: 3,
  };
}

export function createS3Client(settings: AwsSettings): S3Client {
  return new S3Client({ ...common(settings), forcePathStyle: settings.s3ForcePathStyle });
}

export function createSqsClient(settings: AwsSettings): SQSClient {
  return new SQSClient(common(settings));
}
