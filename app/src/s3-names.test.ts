import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowedLocationsOf, describeLocations, isAllowed, isBucketName, parseAllowedLocation, splitAllowedList } from './s3-names.js';

test('isBucketName takes S3 names (legacy upper case and _ included) and refuses anything path- or line-bending', () => {
  for (const name of ['docs', 'my.bucket-1', 'Legacy_Bucket', 'a'.repeat(255)]) assert.equal(isBucketName(name), true, name);
  for (const name of ['', 'ab', 'a'.repeat(256), '-docs', 'docs-', 'docs/x', 'do cs', 'a..b', 'docs\n', 'dócs', '.docs']) {
    assert.equal(isBucketName(name), false, JSON.stringify(name));
  }
});

test('S3_ALLOWED_BUCKETS entries: bucket or bucket/prefix, split on commas and spaces', () => {
  assert.deepEqual(splitAllowedList(' docs, archive/2024/ ,,shared '), ['docs', 'archive/2024/', 'shared']);
  assert.deepEqual(parseAllowedLocation('archive/2024/'), { bucket: 'archive', prefix: '2024/' });
  assert.deepEqual(parseAllowedLocation('docs'), { bucket: 'docs', prefix: '' });
  assert.equal(parseAllowedLocation('s3://docs'), undefined);
  assert.equal(parseAllowedLocation('docs/a\u0007b'), undefined);
});

test('the default is S3_BUCKET; an explicit list replaces it; neither is nothing', () => {
  assert.deepEqual(allowedLocationsOf({ bucket: 'docs', allowedBuckets: [] }), [{ bucket: 'docs', prefix: '' }]);
  assert.deepEqual(allowedLocationsOf({ bucket: 'docs', allowedBuckets: ['arch/b/'] }), [{ bucket: 'arch', prefix: 'b/' }]);
  assert.deepEqual(allowedLocationsOf({ bucket: '', allowedBuckets: [] }), []);
});

test('isAllowed: bucket must match exactly; a prefix is a key prefix', () => {
  const locations = allowedLocationsOf({ bucket: '', allowedBuckets: ['docs', 'archive/2024/'] });
  assert.equal(isAllowed(locations, 'docs', 'anything/at/all'), true);
  assert.equal(isAllowed(locations, 'docs2', 'a'), false);
  assert.equal(isAllowed(locations, 'archive', '2024/x'), true);
  assert.equal(isAllowed(locations, 'archive', '2024'), false);
  assert.equal(isAllowed(locations, 'archive', '2024/../2023/x'), false);
  assert.equal(describeLocations(locations), 'docs, archive/2024/');
});
