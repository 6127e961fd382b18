// The metadata reader against an S3 client stubbed per command: what it makes of an object that
// is deleted between the calls it makes (the real calls are tested against moto in
// test/integration/metadata.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { MetadataReader } from './sources.js';

const SETTINGS = { readObject: true, readTags: true, readSidecars: true, fields: {}, aclKey: 'allowed', aclDefault: 'private' } as const;

/** An S3 client whose HeadObject finds the object and whose other calls find nothing: deleted in between. */
const deletedAfterHead = {
  send: (command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'HeadObjectCommand') return Promise.resolve({ ETag: '"e1"', Metadata: { allowed: 'user:ana' } });
    return Promise.reject(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
  },
} as unknown as S3Client;

test('an object deleted between its HeadObject and its tags is missing, not a dead letter', async () => {
  assert.equal(await new MetadataReader(deletedAfterHead, SETTINGS).current('b', 'k.txt'), 'missing');
});

test('an object deleted between its download and its tags is missing_object, for the caller to treat as gone', async () => {
  await assert.rejects(new MetadataReader(deletedAfterHead, SETTINGS).ofFetched('b', 'k.txt', {}), (error: unknown) => (error as { reason?: string }).reason === 'missing_object');
});
