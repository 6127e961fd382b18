import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChunkDocument } from '../document.js';
import { chunkPredicate, hasAccessFields } from './metadata-filter.js';

type Stored = Omit<ChunkDocument, 'embedding'>;
const base = { id: 'x', content: 'c', file_path: 'f', source_id: 's', split_id: 0, split_idx_start: 0, content_type: 'text/plain', indexed_at: '2024-01-01T00:00:00Z' };
const budget: Stored = { ...base, meta: { department: 'finance', year: 2024, effective: '2024-03-01', tags: ['a', 'b'] }, acl_principals: ['group:finance'], acl_public: false };
const open: Stored = { ...base, meta: { department: 'ops' }, acl_principals: [], acl_public: true };
const bare: Stored = { ...base };

test('the local store applies the same filters as Elasticsearch', () => {
  const matches = (filters: Parameters<typeof chunkPredicate>[0], chunk: Stored) => chunkPredicate(filters, 'everyone')?.(chunk);
  assert.equal(matches([{ field: 'meta.department', op: 'any', values: ['finance', 'legal'] }], budget), true);
  assert.equal(matches([{ field: 'meta.department', op: 'any', values: ['legal'] }], budget), false);
  assert.equal(matches([{ field: 'meta.tags', op: 'any', values: ['b'] }], budget), true, 'a list field holds the value');
  assert.equal(matches([{ field: 'meta.year', op: 'any', values: ['2024'] }], budget), true, 'compared by text, as a term query');
  assert.equal(matches([{ field: 'meta.effective', op: 'gte', value: '2024-01-01' }], budget), true);
  assert.equal(matches([{ field: 'meta.effective', op: 'gte', value: '2024-03-01T00:00:01Z' }], budget), false);
  assert.equal(matches([{ field: 'meta.year', op: 'lt', value: 2024 }], budget), false);
  assert.equal(matches([{ field: 'content_type', op: 'any', values: ['text/plain'] }], bare), true);
  assert.equal(matches([{ field: 'meta.department', op: 'any', values: ['ops'] }], bare), false);
  assert.equal(chunkPredicate([], undefined), undefined);
});

test('readers: principals or public; a chunk without access fields matches no principal', () => {
  const ana = chunkPredicate([], { principals: ['user:ana'] });
  const finance = chunkPredicate([], { principals: ['group:finance'] });
  assert.ok(ana && finance);
  assert.equal(ana(budget), false);
  assert.equal(finance(budget), true);
  assert.equal(ana(open), true);
  assert.equal(ana(bare), false);
  assert.equal(hasAccessFields([bare, budget]), true);
  assert.equal(hasAccessFields([bare]), false);
});

// The filter cases of the former store/local/filter.ts, now applied by chunkPredicate alone (one
// translation of filters for the local store).
function matchesFilters(chunk: object, filters: Parameters<typeof chunkPredicate>[0]): boolean {
  return chunkPredicate(filters, undefined)?.(chunk as Stored) ?? true;
}

const filterChunk = { content_type: 'application/pdf', page_number: 4, section: 'Q3', ocr: true, indexed_at: '2026-03-01T10:00:00Z', meta: { tags: ['a', 'b'], year: 2024 } };

test('any: the field, or one of a list field\'s values, is one of the values', () => {
  assert.equal(matchesFilters(filterChunk, [{ field: 'content_type', op: 'any', values: ['text/plain', 'application/pdf'] }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'content_type', op: 'any', values: ['text/plain'] }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'meta.tags', op: 'any', values: ['b'] }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'meta.tags', op: 'any', values: ['c'] }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'ocr', op: 'any', values: [true] }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'meta.year', op: 'any', values: ['2024'] }]), true, 'as a keyword field matches a number');
});

test('a chunk without the field matches no condition on it', () => {
  assert.equal(matchesFilters(filterChunk, [{ field: 'page_end', op: 'any', values: [4] }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'meta.missing', op: 'gte', value: 0 }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'content_type.length', op: 'any', values: [15] }]), false, 'no reading into a string');
});

test('ranges on numbers and dates', () => {
  assert.equal(matchesFilters(filterChunk, [{ field: 'page_number', op: 'gte', value: 4 }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'page_number', op: 'gt', value: 4 }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'page_number', op: 'lt', value: 5 }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'page_number', op: 'lte', value: 3 }]), false);
  assert.equal(matchesFilters(filterChunk, [{ field: 'indexed_at', op: 'gte', value: '2026-01-01' }]), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'indexed_at', op: 'lt', value: '2026-03-01T09:00:00Z' }]), false);
});

test('every filter must hold; none is no restriction', () => {
  assert.equal(matchesFilters(filterChunk, []), true);
  assert.equal(matchesFilters(filterChunk, [{ field: 'section', op: 'any', values: ['Q3'] }, { field: 'page_number', op: 'gt', value: 10 }]), false);
});
