import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DEAD_LETTER_REASONS, isDeadLetterReason } from './failure.js';

test('docs/operations.md documents exactly the reasons the worker dead-letters with', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
  const section = doc.split('## The dead-letter message')[1]?.split('\n## ')[0] ?? '';
  const table = section.split('\nReasons:')[1] ?? '';
  // The first cell of each row of the reasons table; a row may name several (`a`, `b`).
  const documented = table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((match) => match[1]));
  assert.deepEqual([...documented].sort(), [...DEAD_LETTER_REASONS].sort());
});

test('isDeadLetterReason accepts the listed reasons only', () => {
  assert.equal(isDeadLetterReason('too_large'), true);
  assert.equal(isDeadLetterReason('too-large'), false);
  assert.equal(isDeadLetterReason('elasticsearch_unavailable'), false, 'a retry reason is not a dead-letter reason');
});
