import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filterClauses } from './filters.js';

test('each filter becomes one clause: any → terms, a bound → range', () => {
  assert.deepEqual(
    filterClauses([
      { field: 'content_type', op: 'any', values: ['text/plain', 'application/pdf'] },
      { field: 'page_number', op: 'gte', value: 3 },
      { field: 'indexed_at', op: 'lt', value: '2026-01-01T00:00:00Z' },
      { field: 'ocr', op: 'any', values: [true] },
    ]),
    [
      { terms: { content_type: ['text/plain', 'application/pdf'] } },
      { range: { page_number: { gte: 3 } } },
      { range: { indexed_at: { lt: '2026-01-01T00:00:00Z' } } },
      { terms: { ocr: [true] } },
    ],
  );
});

test('no filters, no clauses', () => {
  assert.deepEqual(filterClauses([]), []);
});
