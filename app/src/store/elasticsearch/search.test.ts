import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bm25Request, fuseByRank, knnRequest } from './search.js';

const source = (id: string, page?: number, pageEnd?: number) => ({
  id,
  source: {
    id,
    content: `content of ${id}`,
    file_path: `s3://docs/${id}.pdf`,
    source_id: id,
    split_id: 0,
    split_idx_start: 0,
    content_type: 'application/pdf',
    indexed_at: '',
    ...(page === undefined ? {} : { page_number: page }),
    ...(pageEnd === undefined ? {} : { page_end: pageEnd }),
  },
});

test('fuseByRank favours what both lists rank high', () => {
  const vector = [source('a'), source('b'), source('c')];
  const keyword = [source('b'), source('d'), source('c')];
  const fused = fuseByRank([vector, keyword], 3);
  assert.deepEqual(fused.map((hit) => hit.file_path), ['s3://docs/b.pdf', 's3://docs/c.pdf', 's3://docs/a.pdf']);
  assert.ok((fused[0]?.score ?? 0) > (fused[2]?.score ?? 0));
});

test('fuseByRank keeps a hit\'s pages and leaves the index-only fields out', () => {
  const [hit] = fuseByRank([[source('y', 3, 5)]], 1);
  assert.deepEqual(hit, { score: 1 / 61, content: 'content of y', file_path: 's3://docs/y.pdf', page_number: 3, page_end: 5, split_id: 0, source_id: 'y' });
});

const filters = [
  { field: 'content_type', op: 'any', values: ['application/pdf'] },
  { field: 'page_number', op: 'gte', value: 2 },
] as const;
const clauses = [{ term: { content_type: 'application/pdf' } }, { range: { page_number: { gte: 2 } } }];

test('kNN: the filters go into knn.filter (the k nearest are k matching chunks), never a post_filter', () => {
  const request = knnRequest('docs-v1', Float32Array.from([0.5, 0.5]), { k: 20, filters });
  assert.deepEqual(request.knn, { field: 'embedding', query_vector: [0.5, 0.5], k: 20, num_candidates: 200, filter: clauses });
  assert.equal(request.size, 20);
  assert.equal('post_filter' in request, false);
  assert.equal('filter' in (knnRequest('i', Float32Array.from([1]), { k: 3, filters: [] }).knn ?? {}), false, 'no filter without filters');
});

test('BM25: the filters are the bool query\'s filter around the match, never a post_filter', () => {
  const request = bm25Request('docs-v1', { text: 'volcano', k: 5, filters });
  assert.deepEqual(request.query, { bool: { must: [{ match: { content: 'volcano' } }], filter: clauses } });
  assert.equal(request.size, 10);
  assert.equal('post_filter' in request, false);
  assert.deepEqual(bm25Request('i', { text: 'volcano', k: 5, filters: [] }).query, { match: { content: 'volcano' } });
});
