// `reindex verify` tells a file dead-lettered in the new index (its record says so, with the
// reason) from one simply missing, against real Elasticsearch.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { verifyIndices } from '../../app/src/store/elasticsearch/reindex.js';
import { sourceIdOf } from '../../app/src/store/document.js';
import { indexMapping } from '../../app/src/store/elasticsearch/chunks.js';
import { RECORDS_MAPPING, recordsIndexOf, type FileRecord } from '../../app/src/store/elasticsearch/file-records.js';
import { es, settings, uniqueName } from '../support/stack.js';

const from = uniqueName('verify-dead-from');
const to = uniqueName('verify-dead-to');

after(async () => {
  await es.indices.delete({ index: [from, to, recordsIndexOf(from), recordsIndexOf(to)], ignore_unavailable: true });
});

test('verify names the files missing because they were dead-lettered, with the reason', async () => {
  const mappings = indexMapping(384, settings.elasticsearch);
  await es.indices.create({ index: from, mappings });
  await es.indices.create({ index: to, mappings });
  await es.indices.create({ index: recordsIndexOf(to), mappings: RECORDS_MAPPING });
  const files = ['s3://docs/kept.txt', 's3://docs/scan.pdf', 's3://docs/never-sent.txt'];
  for (const file of files) await es.index({ index: from, document: { file_path: file, content: file, split_id: 0 } });
  await es.index({ index: to, document: { file_path: files[0], content: files[0], split_id: 0 } });
  const record: FileRecord = { file_path: files[1] ?? '', generation: 1, state: 'dead_lettered', reason: 'no_text', updated_at: new Date().toISOString() };
  await es.index({ index: recordsIndexOf(to), id: sourceIdOf(files[1] ?? ''), document: record, refresh: true });

  const report = await verifyIndices(es, from, to, 4);
  assert.deepEqual(report.missing, ['s3://docs/never-sent.txt', 's3://docs/scan.pdf']);
  assert.deepEqual([...report.deadLettered], [['s3://docs/scan.pdf', 'no_text']]);
});
