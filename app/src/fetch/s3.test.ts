// Which S3 answers dead-letter a file and which are retried (docs/operations.md, "Which failures
// are retried").
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { AuthorizationError, PermanentError, TransientError } from '../failure.js';
import { classifyS3Error } from './s3.js';

const s3Error = (name: string, httpStatusCode: number) => new S3ServiceException({ name, $fault: httpStatusCode >= 500 ? 'server' : 'client', $metadata: { httpStatusCode } });

test("AccessDenied is an authorization error: retried with the fix, not a dead letter per file", () => {
  const classified = classifyS3Error(s3Error('AccessDenied', 403), 'docs', 'a.pdf');
  assert.ok(classified instanceof AuthorizationError);
  assert.equal(classified.reason, 's3_access_denied');
  assert.match(classified.fix, /s3:GetObject on s3:\/\/docs\/\*/);
});

test('a missing object or bucket and an archived object are permanent', () => {
  const missing = classifyS3Error(new NoSuchKey({ message: 'gone', $metadata: {} }), 'docs', 'a.pdf');
  assert.ok(missing instanceof PermanentError);
  assert.equal(missing.reason, 'missing_object');
  for (const [name, reason] of [
    ['NoSuchBucket', 'missing_bucket'],
    ['InvalidObjectState', 'object_archived'],
  ] as const) {
    const classified = classifyS3Error(s3Error(name, name === 'NoSuchBucket' ? 404 : 403), 'docs', 'a.pdf');
    assert.ok(classified instanceof PermanentError, name);
    assert.equal(classified.reason, reason);
  }
});

test('throttling, 5xx and network errors are transient', () => {
  for (const error of [s3Error('SlowDown', 503), s3Error('InternalError', 500), new Error('socket hang up')]) {
    const classified = classifyS3Error(error, 'docs', 'a.pdf');
    assert.ok(classified instanceof TransientError && !(classified instanceof AuthorizationError), error.name);
    assert.equal(classified.reason, 's3_unavailable');
  }
});
