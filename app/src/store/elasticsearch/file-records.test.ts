import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextGeneration, recordsIndexOf } from './file-records.js';

test('a generation is above the previous one, and at least the clock', () => {
  assert.equal(nextGeneration(undefined, 1_700_000_000_000), 1_700_000_000_000);
  assert.equal(nextGeneration(1_700_000_000_000, 1_600_000_000_000), 1_700_000_000_001, 'a clock behind the record never lowers it');
  assert.equal(nextGeneration(5, 1_700_000_000_000.7), 1_700_000_000_000, 'a record of small generations (lost and rebuilt) is passed by the clock');
});

test('the records of an index live next to it', () => {
  assert.equal(recordsIndexOf('documents'), 'documents-files');
});
