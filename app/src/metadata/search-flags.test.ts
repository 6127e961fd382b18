import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMessage } from '../source/message.js';
import { sidecarEventTarget } from '../pipeline/metadata-change.js';
import { FilterSyntaxError, parseFilter, readerOf } from './search-flags.js';

test('--filter: equality, lists, ranges; metadata keys normalised, chunk fields kept', () => {
  assert.deepEqual(parseFilter('department=finance'), { field: 'meta.department', op: 'any', values: ['finance'] });
  assert.deepEqual(parseFilter('Department = finance, legal'), { field: 'meta.department', op: 'any', values: ['finance', 'legal'] });
  assert.deepEqual(parseFilter('effective>=2024-01-01'), { field: 'meta.effective', op: 'gte', value: '2024-01-01' });
  assert.deepEqual(parseFilter('year<2025'), { field: 'meta.year', op: 'lt', value: 2025 });
  assert.deepEqual(parseFilter('year>1.5'), { field: 'meta.year', op: 'gt', value: 1.5 });
  assert.deepEqual(parseFilter('content_type=application/pdf'), { field: 'content_type', op: 'any', values: ['application/pdf'] });
  assert.deepEqual(parseFilter('meta.section=x'), { field: 'meta.section', op: 'any', values: ['x'] });
  for (const bad of ['department', 'department=', '=x', '---=x']) assert.throws(() => parseFilter(bad), FilterSyntaxError, bad);
});

test('--as and --all: principals, everyone, neither; never both', () => {
  assert.deepEqual(readerOf({ as: 'group:finance, user:ana' }), { principals: ['group:finance', 'user:ana'] });
  assert.equal(readerOf({ all: true }), 'everyone');
  assert.equal(readerOf({}), undefined);
  assert.throws(() => readerOf({ as: 'user:ana', all: true }), /exclude each other/);
  assert.throws(() => readerOf({ as: ' , ' }), /at least one principal/);
});

test('tagging events are metadata changes; a sidecar\'s events are its document\'s', () => {
  const body = (eventName: string, key: string) =>
    JSON.stringify({ Records: [{ eventName, s3: { bucket: { name: 'docs' }, object: { key, eTag: 'abc' } } }] });
  const tagged = parseMessage(body('ObjectTagging:Put', 'a.pdf'), [{ bucket: 'docs', prefix: '' }]);
  assert.deepEqual(tagged, { kind: 'files', events: [{ action: 'upsert', origin: 'notification', bucket: 'docs', key: 'a.pdf', etag: 'abc', metadataOnly: true }] });
  const removed = { action: 'remove', origin: 'notification', bucket: 'docs', key: 'a.pdf.metadata.json', etag: 'x' } as const;
  assert.deepEqual(sidecarEventTarget(removed, true), { action: 'upsert', origin: 'notification', bucket: 'docs', key: 'a.pdf', metadataOnly: true });
  assert.equal(sidecarEventTarget(removed, false), undefined, 'not read, and still not a document');
  const plain = { action: 'upsert', origin: 'notification', bucket: 'docs', key: 'a.pdf' } as const;
  assert.equal(sidecarEventTarget(plain, true), plain);
});
