import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHits, pageLabel, type SearchHit } from './search.js';

/** A hit as a store returns it (score 1/61: first of one list fused by rank). */
const hitOf = (id: string, page?: number, pageEnd?: number, section?: string): SearchHit => ({
  score: 1 / 61,
  content: `content of ${id}`,
  file_path: `s3://docs/${id}.pdf`,
  source_id: id,
  split_id: 0,
  ...(page === undefined ? {} : { page_number: page }),
  ...(pageEnd === undefined ? {} : { page_end: pageEnd }),
  ...(section === undefined ? {} : { section }),
});

test('formatHits shows rank, file, page, score and a one-line snippet', () => {
  const text = formatHits([hitOf('x', 4)]);
  assert.match(text, /^1\. s3:\/\/docs\/x\.pdf, page 4 {2}\(score 0\.016\)\n {3}content of x\n$/);
  assert.equal(formatHits([]), 'No results.\n');
});

test('formatHits names the page range of a chunk that runs across pages; --json carries page_end', () => {
  const hit = hitOf('y', 3, 5);
  assert.match(formatHits([hit]), /^1\. s3:\/\/docs\/y\.pdf, pages 3–5 {2}\(/);
  const single = hitOf('z', 4, 4);
  assert.match(formatHits([single]), /, page 4 {2}\(/);
  assert.equal(pageLabel({}), '');
});

test('formatHits names the section a chunk starts in; --json carries section', () => {
  const hit = hitOf('book', undefined, undefined, 'Staff\u001b[2J');
  assert.equal(hit.section, 'Staff\u001b[2J');
  assert.equal((JSON.parse(JSON.stringify(hit)) as { section?: string }).section, 'Staff\u001b[2J');
  const printed = formatHits([hit]);
  assert.match(printed, /^1\. s3:\/\/docs\/book\.pdf, section "Staff\S*" {2}\(/);
  assert.equal(printed.includes('\u001b'), false, 'control characters in a sheet name are escaped');
  const plain = hitOf('plain');
  assert.equal('section' in plain, false);
});
