import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { describeSettings } from './config.js';
import { withReference } from './reference.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

test('the README documents every setting exactly as the schema declares it', () => {
  assert.equal(readme, withReference(readme), 'README settings table is stale: run `npm run docs:config`');
  for (const row of describeSettings()) assert.ok(readme.includes(`| \`${row.env}\` |`), row.env);
});
