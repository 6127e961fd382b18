import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchesFilters } from './filter.js';

const chunk = { content_type: 'application/pdf', page_number: 4, section: 'Q3', ocr: true, indexed_at: '2026-03-01T10:00:00Z', meta: { tags: ['a', 'b'], year: 2024 } };

test('any: the field, or one of a list field\'s values, is one of the values', () => {
  assert.equal(matchesFilters(chunk, [{ field: 'content_type', op: 'any', values: ['text/plain', 'application/pdf'] }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'content_type', op: 'any', values: ['text/plain'] }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'meta.tags', op: 'any', values: ['b'] }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'meta.tags', op: 'any', values: ['c'] }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'ocr', op: 'any', values: [true] }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'meta.year', op: 'any', values: ['2024'] }]), true, 'as a keyword field matches a number');
});

test('a chunk without the field matches no condition on it', () => {
  assert.equal(matchesFilters(chunk, [{ field: 'page_end', op: 'any', values: [4] }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'meta.missing', op: 'gte', value: 0 }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'content_type.length', op: 'any', values: [15] }]), false, 'no reading into a string');
});

test('ranges on numbers and dates', () => {
  assert.equal(matchesFilters(chunk, [{ field: 'page_number', op: 'gte', value: 4 }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'page_number', op: 'gt', value: 4 }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'page_number', op: 'lt', value: 5 }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'page_number', op: 'lte', value: 3 }]), false);
  assert.equal(matchesFilters(chunk, [{ field: 'indexed_at', op: 'gte', value: '2026-01-01' }]), true);
  assert.equal(matchesFilters(chunk, [{ field: 'indexed_at', op: 'lt', value: '2026-03-01T09:00:00Z' }]), false);
});

test('every filter must hold; none is no restriction', () => {
  assert.equal(matchesFilters(chunk, []), true);
  assert.equal(matchesFilters(chunk, [{ field: 'section', op: 'any', values: ['Q3'] }, { field: 'page_number', op: 'gt', value: 10 }]), false);
});
