import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeS3EventKey, type FileEvent, MAX_BODY_BYTES, parseBody, requestBody } from './message.js';

function eventsOf(body: string): readonly FileEvent[] {
  const parsed = parseBody(body);
  if (parsed.kind !== 'files') assert.fail(`expected files, got ${JSON.stringify(parsed)}`);
  return parsed.events;
}

function reasonOf(body: string): string {
  const parsed = parseBody(body);
  if (parsed.kind !== 'invalid') assert.fail(`expected invalid, got ${JSON.stringify(parsed).slice(0, 200)}`);
  return parsed.reason;
}

function s3Notification(eventName: string, key: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        eventName,
        s3: { bucket: { name: 'docs' }, object: { key, size: 42, eTag: 'abc123', ...extra } },
      },
    ],
  });
}

describe('parseBody', () => {
  test('ObjectCreated notification becomes an upsert with decoded key, etag and size', () => {
    assert.deepEqual(parseBody(s3Notification('ObjectCreated:Put', 'reports/q1+2024%2Bfinal.pdf')), {
      kind: 'files',
      events: [{ action: 'upsert', origin: 'notification', bucket: 'docs', key: 'reports/q1 2024+final.pdf', etag: 'abc123', size: 42 }],
    });
  });

  test('ObjectRemoved notification becomes a remove', () => {
    const events = eventsOf(s3Notification('ObjectRemoved:Delete', 'a%2Fb.txt'));
    assert.deepEqual(events.map((e) => [e.action, e.key]), [['remove', 'a/b.txt']]);
  });

  test('unicode keys survive encoding', () => {
    const key = 'día/naïve résumé 東京.md';
    const encoded = encodeURIComponent(key).replace(/%20/g, '+');
    assert.equal(eventsOf(s3Notification('ObjectCreated:Post', encoded))[0]?.key, key);
  });

  test('a notification with several records yields every file', () => {
    const body = JSON.stringify({
      Records: ['a.txt', 'b.txt'].map((key) => ({
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'docs' }, object: { key } },
      })),
    });
    assert.deepEqual(eventsOf(body).map((e) => e.key), ['a.txt', 'b.txt']);
  });

  test('SNS envelope around an S3 notification is unwrapped', () => {
    const body = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:uploads',
      Message: s3Notification('ObjectCreated:Put', 'x.html'),
    });
    assert.equal(eventsOf(body)[0]?.key, 'x.html');
  });

  test('s3:TestEvent is ignored, directly and inside SNS', () => {
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'docs' });
    assert.deepEqual(parseBody(testEvent), { kind: 'ignore', reason: 's3:TestEvent' });
    assert.equal(parseBody(JSON.stringify({ Type: 'Notification', Message: testEvent })).kind, 'ignore');
  });

  test('the reason for a non-JSON body never quotes the body', () => {
    const reason = reasonOf('hello SECRET-TEXT');
    assert.match(reason, /not JSON/);
    assert.doesNotMatch(reason, /SECRET/);
  });

  test('{"bucket","key"} bodies take the key literally', () => {
    assert.deepEqual(parseBody('{"bucket":"docs","key":"a+b %41.txt"}'), {
      kind: 'files',
      events: [{ action: 'upsert', origin: 'request', bucket: 'docs', key: 'a+b %41.txt' }],
    });
  });

  test('backfill requests carry etag, size, origin and force, and round-trip through requestBody', () => {
    const body = requestBody('docs', 'a b/ü+1.txt', { etag: '"9a0364b9e99bb480dd25e1f0284c8555"', size: 12, origin: 'backfill', force: true });
    assert.deepEqual(eventsOf(body), [
      { action: 'upsert', origin: 'backfill', bucket: 'docs', key: 'a b/ü+1.txt', etag: '"9a0364b9e99bb480dd25e1f0284c8555"', size: 12, force: true },
    ]);
    // force: false is the default and is left out of the event.
    assert.deepEqual(eventsOf(requestBody('docs', 'a.txt', { origin: 'backfill', force: false })), [
      { action: 'upsert', origin: 'backfill', bucket: 'docs', key: 'a.txt' },
    ]);
    assert.equal(requestBody('docs', 'a.txt'), '{"bucket":"docs","key":"a.txt"}');
  });

  const invalidBodies: [string, string, RegExp][] = [
    ['an empty etag', '{"bucket":"docs","key":"a","etag":""}', /"etag" must be/],
    ['a negative size', '{"bucket":"docs","key":"a","size":-1}', /"size" must be/],
    ['a fractional size', '{"bucket":"docs","key":"a","size":1.5}', /"size" must be/],
    ['an unknown origin', '{"bucket":"docs","key":"a","origin":"notification"}', /"origin" must be/],
    ['a string force', '{"bucket":"docs","key":"a","force":"yes"}', /"force" must be/],
    ['not JSON', '{"bucket": ', /not JSON/],
    ['a JSON array', '[1,2]', /not an object/],
    ['a JSON string', '"hello"', /not an object/],
    ['an unknown shape', '{"hello":"world"}', /unrecognised message/],
    ['empty Records', '{"Records":[]}', /no Records/],
    ['an unsupported event', s3Notification('ObjectRestore:Completed', 'a'), /unsupported event/],
    ['a record without s3', '{"Records":[{"eventName":"ObjectCreated:Put"}]}', /missing bucket or object/],
    ['bad percent encoding', s3Notification('ObjectCreated:Put', 'bad%zzkey'), /not valid URL encoding/],
    ['an empty key', '{"bucket":"docs","key":""}', /empty object key/],
    ['a non-string key', '{"bucket":"docs","key":7}', /"key" must be a string/],
    ['a missing bucket', '{"key":"a.txt"}', /"bucket" must be/],
    ['a key over 1024 bytes', JSON.stringify({ bucket: 'docs', key: 'k'.repeat(1025) }), /longer than 1024/],
    ['a giant body', JSON.stringify({ bucket: 'docs', key: 'a', pad: 'x'.repeat(MAX_BODY_BYTES) }), /larger than/],
  ];
  for (const [name, body, reason] of invalidBodies) {
    test(`rejects ${name} with a reason`, () => {
      assert.match(reasonOf(body), reason);
    });
  }
});

test('decodeS3EventKey turns + into space before percent-decoding', () => {
  assert.equal(decodeS3EventKey('a+b%2Bc%20d'), 'a b+c d');
  assert.equal(decodeS3EventKey('..%2F..%2Fetc%2Fpasswd'), '../../etc/passwd');
});
