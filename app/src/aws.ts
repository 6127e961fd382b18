// AWS clients built the same way for every command: the SDK's own credential chain, region
// resolution, retry strategy and AWS_ENDPOINT_URL handling; path-style S3 for emulators.
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Settings } from './config/config.js';

type AwsSettings = Settings['aws'];

// The SDK's defaults wait forever on a connection that hangs (a frozen endpoint, a half-open
// socket): the message's lease would be extended on and its file never finish. Connections get
// 5 s; a socket silent for longer than a long poll (20 s) plus margin is given up and retried.
const requestHandler = () => new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 45_000 });

function common(settings: AwsSettings) {
  return {
    ...(settings.region === '' ? {} : { region: settings.region }),
    ...(settings.endpoint === '' ? {} : { endpoint: settings.endpoint }),
    retryMode: 'standard',
    maxAttempts: 3,
    requestHandler: requestHandler(),
  };
}

export function createS3Client(settings: AwsSettings): S3Client {
  return new S3Client({ ...common(settings), forcePathStyle: settings.s3ForcePathStyle });
}

export function createSqsClient(settings: AwsSettings): SQSClient {
  return new SQSClient(common(settings));
}
