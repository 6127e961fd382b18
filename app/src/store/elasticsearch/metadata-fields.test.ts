import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkDocument } from '../document.js';
import { chunkSourceOf, metadataMapping, metaOfSource, ReaderRequiredError, searchClauses } from './metadata-fields.js';

const chunk: ChunkDocument = {
  id: 's-0',
  content: 'text',
  embedding: new Float32Array([0.5, 0.25]),
  file_path: 's3://b/k',
  source_id: 's',
  split_id: 0,
  split_idx_start: 0,
  content_type: 'text/plain',
  indexed_at: '2024-01-01T00:00:00Z',
  meta: { department: 'finance', year: 2024 },
  acl_principals: ['group:finance'],
  acl_public: false,
};

test('metadata is stored flat, next to the chunk\'s fields, and read back from them', () => {
  const source = chunkSourceOf(chunk);
  assert.equal(source.department, 'finance');
  assert.equal('meta' in source, false, 'no nested meta: Haystack refuses a meta key next to flattened ones');
  assert.deepEqual(source.embedding, [0.5, 0.25]);
  assert.deepEqual(metaOfSource(source), { department: 'finance', year: 2024 });
});

test('the mapping: dynamic templates by value type, declared fields and access fields up front', () => {
  const mapping = metadataMapping({ fields: { year: 'number', effective: 'date' }, acl: true });
  assert.equal(mapping.dynamic, true);
  assert.deepEqual(mapping.properties.year, { type: 'double' });
  assert.equal((mapping.properties.effective as { type: string }).type, 'date');
  assert.deepEqual(mapping.properties.acl_principals, { type: 'keyword' });
  assert.equal(metadataMapping({ fields: {}, acl: false }).properties.acl_public, undefined, 'no access fields: the index is not access-controlled');
});

test('filter clauses, and the reader: fail-closed on an access-controlled index', () => {
  const filters = [
    { field: 'meta.department', op: 'any', values: ['finance'] },
    { field: 'meta.department', op: 'any', values: ['finance', 'legal'] },
    { field: 'meta.effective', op: 'gte', value: '2024-01-01' },
  ] as const;
  assert.deepEqual(searchClauses('i', filters, undefined, false), [
    { term: { department: 'finance' } },
    { terms: { department: ['finance', 'legal'] } },
    { range: { effective: { gte: '2024-01-01' } } },
  ]);
  assert.throws(() => searchClauses('docs', [], undefined, true), ReaderRequiredError);
  assert.deepEqual(searchClauses('i', [], 'everyone', true), []);
  assert.deepEqual(searchClauses('i', [], { principals: ['user:ana'] }, true), [
    { bool: { should: [{ term: { acl_public: true } }, { terms: { acl_principals: ['user:ana'] } }], minimum_should_match: 1 } },
  ]);
});

// The cases of the former store/elasticsearch/filters.ts: searchClauses is the one translation of
// filters into the query DSL (chunk fields as they are, `meta.` fields as the flat fields they are stored as).
test('each filter becomes one clause: one value → term, several → terms, a bound → range', () => {
  assert.deepEqual(
    searchClauses(
      'i',
      [
        { field: 'content_type', op: 'any', values: ['text/plain', 'application/pdf'] },
        { field: 'page_number', op: 'gte', value: 3 },
        { field: 'indexed_at', op: 'lt', value: '2026-01-01T00:00:00Z' },
        { field: 'ocr', op: 'any', values: [true] },
        { field: 'meta.tags', op: 'any', values: ['a'] },
      ],
      undefined,
      false,
    ),
    [
      { terms: { content_type: ['text/plain', 'application/pdf'] } },
      { range: { page_number: { gte: 3 } } },
      { range: { indexed_at: { lt: '2026-01-01T00:00:00Z' } } },
      { term: { ocr: true } },
      { term: { tags: 'a' } },
    ],
  );
});

test('no filters and no reader, no clauses', () => {
  assert.deepEqual(searchClauses('i', [], undefined, false), []);
});
