import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../config/config.js';
import { accessOf } from './acl.js';
import { mergeMetadata, type MergeSettings } from './merge.js';
import { unknownAccessVariables } from './setting-names.js';
import { documentKeyOf, isSidecarKey, parseSidecar, SIDECAR_MAX_BYTES } from './sidecar.js';
import { coerce, MetadataTypeError, normaliseKey } from './values.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const settings = (overrides: Partial<MergeSettings> = {}): MergeSettings => ({ fields: {}, aclKey: '', aclDefault: 'private', ...overrides });

describe('keys and values', () => {
  test('keys are lower case [a-z0-9_]', () => {
    assert.equal(normaliseKey('Effective-Date'), 'effective_date');
    assert.equal(normaliseKey('  Dept.Name '), 'dept_name');
    assert.equal(normaliseKey('---'), undefined);
    assert.equal(normaliseKey('x'.repeat(65)), undefined);
  });

  test('declared types convert text and refuse what does not fit', () => {
    assert.equal(coerce('2024', 'number'), 2024);
    assert.equal(coerce('abc', 'number'), undefined);
    assert.equal(coerce('true', 'boolean'), true);
    assert.equal(coerce('yes', 'boolean'), undefined);
    assert.deepEqual(coerce('a, b,,c', 'list'), ['a', 'b', 'c']);
    assert.equal(coerce('2024-03-01', 'date'), '2024-03-01');
    assert.equal(coerce('2024-03-01T10:00:00Z', 'date'), '2024-03-01T10:00:00Z');
    assert.equal(coerce('2024-13-45', 'date'), undefined);
    assert.equal(coerce('March 2024', 'date'), undefined);
  });
});

describe('sidecars', () => {
  test('Bedrock format, plain format and Bedrock typed values', () => {
    assert.deepEqual(parseSidecar(bytes('{"metadataAttributes": {"department": "finance", "year": 2024, "tags": ["a", "b"], "final": true}}')), {
      ok: true,
      attributes: { department: 'finance', year: 2024, tags: ['a', 'b'], final: true },
    });
    assert.deepEqual(parseSidecar(bytes('{"department": "legal"}')), { ok: true, attributes: { department: 'legal' } });
    assert.deepEqual(parseSidecar(bytes('{"metadataAttributes": {"year": {"value": {"type": "NUMBER", "numberValue": 7}, "includeForEmbedding": true}}}')), {
      ok: true,
      attributes: { year: 7 },
    });
  });

  test('a bad sidecar is refused with the reason', () => {
    const reason = (text: string | Uint8Array) => {
      const parsed = parseSidecar(typeof text === 'string' ? bytes(text) : text);
      if (parsed.ok) throw new assert.AssertionError({ message: 'sidecar accepted' });
      return parsed.reason;
    };
    assert.match(reason('{"department": '), /not JSON/);
    assert.match(reason('[1, 2]'), /not a JSON object/);
    assert.match(reason('{"metadataAttributes": "x"}'), /metadataAttributes is not an object/);
    assert.match(reason('{"owner": {"name": "ana"}}'), /"owner" is a nested object/);
    assert.match(reason('{"ids": [1, 2]}'), /"ids" is a list with a value that is not a string/);
    assert.match(reason('{"x": null}'), /"x" is null/);
    assert.match(reason(new Uint8Array(SIDECAR_MAX_BYTES + 1).fill(32)), /larger than/);
    assert.match(reason(new Uint8Array([0x7b, 0xff, 0x7d])), /not JSON/);
  });

  test('sidecar keys name their document', () => {
    assert.equal(isSidecarKey('reports/q1.pdf.metadata.json'), true);
    assert.equal(isSidecarKey('.metadata.json'), false);
    assert.equal(isSidecarKey('reports/q1.pdf'), false);
    assert.equal(documentKeyOf('reports/q1.pdf.metadata.json'), 'reports/q1.pdf');
  });
});

describe('merging', () => {
  test('user metadata < tags < sidecar, keys normalised', () => {
    const merged = mergeMetadata(
      {
        objectMetadata: { department: 'meta', Language: 'en', only_meta: 'm' },
        tags: { Department: 'tags', only_tags: 't' },
        sidecar: { ok: true, attributes: { DEPARTMENT: 'sidecar', year: 2024 } },
      },
      settings(),
    );
    assert.deepEqual(merged.meta, { department: 'sidecar', language: 'en', only_meta: 'm', only_tags: 't', year: 2024 });
    assert.deepEqual(merged.warnings, []);
    assert.equal(merged.access, undefined);
  });

  test('a refused sidecar leaves the other sources, with a warning', () => {
    const merged = mergeMetadata({ tags: { department: 'tags' }, sidecar: { ok: false, reason: 'not JSON' } }, settings());
    assert.deepEqual(merged.meta, { department: 'tags' });
    assert.match(merged.warnings.join(), /sidecar refused, file indexed without it: not JSON/);
  });

  test('reserved names are dropped with a warning; they would overwrite the chunk fields', () => {
    const merged = mergeMetadata({ objectMetadata: { content: 'x', file_path: 'y', ok: 'z' } }, settings());
    assert.deepEqual(merged.meta, { ok: 'z' });
    assert.equal(merged.warnings.length, 2);
  });

  test('declared types: converted; a misfit fails the file from tags, refuses the sidecar', () => {
    const declared = settings({ fields: { year: 'number', effective: 'date' } });
    assert.deepEqual(mergeMetadata({ tags: { year: '2023', effective: '2024-01-01' } }, declared).meta, { year: 2023, effective: '2024-01-01' });
    assert.throws(
      () => mergeMetadata({ tags: { year: 'last' } }, declared),
      (error: unknown) => error instanceof MetadataTypeError && error.field === 'year' && /year is declared number/.test(error.message),
    );
    const fromSidecar = mergeMetadata({ tags: { year: '2023' }, sidecar: { ok: true, attributes: { year: 'last' } } }, declared);
    assert.deepEqual(fromSidecar.meta, { year: 2023 });
    assert.match(fromSidecar.warnings.join(), /year is declared number/);
  });

  test('the fingerprint changes with any field and not with key order', () => {
    const a = mergeMetadata({ tags: { a: '1', b: '2' } }, settings()).fingerprint;
    assert.equal(mergeMetadata({ tags: { b: '2', a: '1' } }, settings()).fingerprint, a);
    assert.notEqual(mergeMetadata({ tags: { a: '1', b: '3' } }, settings()).fingerprint, a);
    assert.notEqual(mergeMetadata({ tags: { a: '1', b: '2' } }, settings({ aclKey: 'b' })).fingerprint, a);
  });
});

describe('access, fail-closed', () => {
  const acl = settings({ aclKey: 'Allowed' });

  test('principals from the key (any source), taken out of meta', () => {
    const merged = mergeMetadata({ tags: { allowed: 'group:finance, user:ana', department: 'x' } }, acl);
    assert.deepEqual(merged.access, { principals: ['group:finance', 'user:ana'], public: false });
    // Tag values cannot hold commas: spaces separate principals too.
    assert.deepEqual(mergeMetadata({ tags: { allowed: 'user:bo  group:legal' } }, acl).access, { principals: ['group:legal', 'user:bo'], public: false });
    assert.deepEqual(merged.meta, { department: 'x' });
    const fromSidecar = mergeMetadata({ tags: { allowed: 'group:all' }, sidecar: { ok: true, attributes: { allowed: ['user:bo'] } } }, acl);
    assert.deepEqual(fromSidecar.access, { principals: ['user:bo'], public: false });
  });

  test('absent key: private unless ACL_DEFAULT=public', () => {
    assert.deepEqual(mergeMetadata({ tags: {} }, acl).access, { principals: [], public: false });
    assert.deepEqual(mergeMetadata({ tags: {} }, { ...acl, aclDefault: 'public' }).access, { principals: [], public: true });
  });

  test('an empty list is nobody, even with ACL_DEFAULT=public', () => {
    assert.deepEqual(mergeMetadata({ tags: { allowed: ' , ' } }, { ...acl, aclDefault: 'public' }).access, { principals: [], public: false });
    assert.deepEqual(accessOf([], { aclKey: 'allowed', aclDefault: 'public', sidecarRefused: false }), { principals: [], public: false });
    assert.deepEqual(accessOf(3, { aclKey: 'allowed', aclDefault: 'public', sidecarRefused: false }), { principals: [], public: false });
  });

  test('a sidecar that fails to parse: nobody, whatever the tags say', () => {
    const merged = mergeMetadata({ tags: { allowed: 'group:all' }, sidecar: { ok: false, reason: 'not JSON' } }, { ...acl, aclDefault: 'public' });
    assert.deepEqual(merged.access, { principals: [], public: false });
  });
});

describe('settings', () => {
  test('metadata settings are read and checked', () => {
    const values = loadConfig({ env: { S3_READ_TAGS: 'true', METADATA_FIELDS: 'year:number, effective:date', ACL_METADATA_KEY: 'Allowed', ACL_DEFAULT: 'public' } }).metadata;
    assert.deepEqual(values, { readObject: true, readTags: true, readSidecars: false, fields: { year: 'number', effective: 'date' }, aclKey: 'Allowed', aclDefault: 'public' });
    assert.throws(() => loadConfig({ env: { METADATA_FIELDS: 'year:int' } }), /METADATA_FIELDS \(metadata\.fields\): must be name:type pairs/);
    assert.throws(() => loadConfig({ env: { METADATA_FIELDS: 'content:string' } }), /METADATA_FIELDS/);
    assert.throws(() => loadConfig({ env: { ACL_DEFAULT: 'pubilc' } }), /ACL_DEFAULT \(metadata\.aclDefault\): must be one of private, public, got "pubilc"/);
    assert.throws(() => loadConfig({ env: { ACL_METADATA_KEY: 'allowed principals' } }), /ACL_METADATA_KEY/);
  });

  test('a misspelt access variable is an error, not ignored (it would open every file)', () => {
    assert.throws(
      () => loadConfig({ env: { ACL_METDATA_KEY: 'allowed' } }),
      (error: unknown) => error instanceof ConfigError && /ACL_METDATA_KEY: must be a setting .*did you mean ACL_METADATA_KEY\?/.test(error.message),
    );
    assert.deepEqual(unknownAccessVariables({ ACL_METADATA_KEY: 'x', PATH: '/bin' }, ['ACL_METADATA_KEY']), []);
    assert.equal(unknownAccessVariables({ S3_READ_TAG: 'true' }, ['S3_READ_TAGS']).length, 1);
  });
});
