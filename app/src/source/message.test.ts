import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowedLocationsOf } from '../s3-names.js';
import { decodeS3EventKey, type FileEvent, MAX_BODY_BYTES, MAX_RECORDS, parseBody, parseMessage, requestBody } from './message.js';

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
    ['a bucket name with a slash', '{"bucket":"docs/other","key":"a"}', /not a valid S3 bucket name/],
    ['a bucket name with a newline', '{"bucket":"docs\\nforged","key":"a"}', /not a valid S3 bucket name/],
    ['a bucket name of two characters', '{"bucket":"ab","key":"a"}', /not a valid S3 bucket name/],
    ['a bucket name with ..', '{"bucket":"a..b","key":"a"}', /not a valid S3 bucket name/],
    ['a notification naming an invalid bucket', s3Notification('ObjectCreated:Put', 'a').replace('"docs"', '"../docs"'), /Records\[0\]: bucket name is not a valid/],
    [
      `a notification with ${MAX_RECORDS + 1} records`,
      JSON.stringify({ Records: Array.from({ length: MAX_RECORDS + 1 }, (_, i) => ({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'docs' }, object: { key: `f${i}` } } })) }),
      /11 Records; at most 10 are accepted/,
    ],
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

describe('parseMessage: only allowed buckets and prefixes', () => {
  const records = (...files: [string, string][]) =>
    JSON.stringify({ Records: files.map(([bucket, key]) => ({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } })) });

  test('S3_BUCKET alone allows the whole of that bucket and nothing else', () => {
    const allowed = allowedLocationsOf({ bucket: 'docs', allowedBuckets: [] });
    assert.equal(parseMessage(records(['docs', 'a/b.txt']), allowed).kind, 'files');
    const other = parseMessage(requestBody('attacker-public', 'payload.pdf'), allowed);
    assert.equal(other.kind, 'forbidden');
    assert.equal(other.file.bucket, 'attacker-public');
    assert.match(other.reason, /s3:\/\/attacker-public\/payload\.pdf is outside .*S3_ALLOWED_BUCKETS: docs\)/);
  });

  test('S3_ALLOWED_BUCKETS replaces S3_BUCKET, and a prefix narrows a bucket to the keys under it', () => {
    const allowed = allowedLocationsOf({ bucket: 'docs', allowedBuckets: ['archive/2024/', 'shared'] });
    assert.equal(parseMessage(records(['archive', '2024/q1.pdf']), allowed).kind, 'files');
    assert.equal(parseMessage(records(['shared', 'anything']), allowed).kind, 'files');
    assert.equal(parseMessage(records(['archive', '2023/q1.pdf']), allowed).kind, 'forbidden');
    assert.equal(parseMessage(records(['docs', 'a.txt']), allowed).kind, 'forbidden', 'S3_BUCKET is no longer allowed once the list is set');
  });

  test('one forbidden record refuses the whole message, naming that record', () => {
    const allowed = allowedLocationsOf({ bucket: 'docs', allowedBuckets: [] });
    const parsed = parseMessage(records(['docs', 'ok.txt'], ['secrets', 'keys.txt']), allowed);
    assert.equal(parsed.kind, 'forbidden');
    assert.equal(parsed.file.key, 'keys.txt');
  });

  test('removals are checked too: a forged ObjectRemoved cannot delete another bucket\'s chunks', () => {
    const allowed = allowedLocationsOf({ bucket: 'docs', allowedBuckets: [] });
    const body = JSON.stringify({ Records: [{ eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'other' }, object: { key: 'a' } } }] });
    assert.equal(parseMessage(body, allowed).kind, 'forbidden');
  });

  test('under a prefix, . and .. segments are refused (a normalising HTTP layer would read elsewhere)', () => {
    const allowed = allowedLocationsOf({ bucket: 'docs', allowedBuckets: ['docs/public/'] });
    assert.equal(parseMessage(requestBody('docs', 'public/../private/x.pdf'), allowed).kind, 'forbidden');
    assert.equal(parseMessage(requestBody('docs', 'public/./x.pdf'), allowed).kind, 'forbidden');
    assert.equal(parseMessage(requestBody('docs', 'public/a..b.pdf'), allowed).kind, 'files');
  });

  test('nothing allowed: everything is forbidden; malformed and ignored bodies keep their kinds', () => {
    assert.equal(parseMessage(requestBody('docs', 'a'), []).kind, 'forbidden');
    assert.equal(parseMessage('nope', []).kind, 'invalid');
    assert.equal(parseMessage(JSON.stringify({ Event: 's3:TestEvent' }), []).kind, 'ignore');
  });
});
