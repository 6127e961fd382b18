import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHits, fuseByRank, pageLabel } from './search.js';

const source = (id: string, page?: number, pageEnd?: number, section?: string) => ({
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
    ...(section === undefined ? {} : { section }),
  },
});

test('fuseByRank favours what both lists rank high', () => {
  const vector = [source('a'), source('b'), source('c')];
  const keyword = [source('b'), source('d'), source('c')];
  const fused = fuseByRank([vector, keyword], 3);
  assert.deepEqual(fused.map((hit) => hit.file_path), ['s3://docs/b.pdf', 's3://docs/c.pdf', 's3://docs/a.pdf']);
  assert.ok((fused[0]?.score ?? 0) > (fused[2]?.score ?? 0));
});

test('formatHits shows rank, file, page, score and a one-line snippet', () => {
  const text = formatHits(fuseByRank([[source('x', 4)]], 1));
  assert.match(text, /^1\. s3:\/\/docs\/x\.pdf, page 4 {2}\(score 0\.016\)\n {3}content of x\n$/);
  assert.equal(formatHits([]), 'No results.\n');
});

test('formatHits names the page range of a chunk that runs across pages; --json carries page_end', () => {
  const [hit] = fuseByRank([[source('y', 3, 5)]], 1);
  assert.ok(hit);
  assert.deepEqual([hit.page_number, hit.page_end], [3, 5]);
  assert.match(formatHits([hit]), /^1\. s3:\/\/docs\/y\.pdf, pages 3–5 {2}\(/);
  const [single] = fuseByRank([[source('z', 4, 4)]], 1);
  assert.ok(single);
  assert.match(formatHits([single]), /, page 4 {2}\(/);
  assert.equal(pageLabel({}), '');
});

test('formatHits names the section a chunk starts in; --json carries section', () => {
  const [hit] = fuseByRank([[source('book', undefined, undefined, 'Staff\u001b[2J')]], 1);
  assert.ok(hit);
  assert.equal(hit.section, 'Staff\u001b[2J');
  assert.equal((JSON.parse(JSON.stringify(hit)) as { section?: string }).section, 'Staff\u001b[2J');
  const printed = formatHits([hit]);
  assert.match(printed, /^1\. s3:\/\/docs\/book\.pdf, section "Staff\S*" {2}\(/);
  assert.equal(printed.includes('\u001b'), false, 'control characters in a sheet name are escaped');
  const [plain] = fuseByRank([[source('plain')]], 1);
  assert.ok(plain);
  assert.equal('section' in plain, false);
});
