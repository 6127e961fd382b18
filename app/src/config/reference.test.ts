import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FORMATS } from '../convert/registry.js';
import { describeSettings } from './config.js';
import { withFormats, withReference } from './reference.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const operations = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

test('the README documents every setting exactly as the schema declares it', () => {
  assert.equal(readme, withReference(readme), 'README settings or formats table is stale: run `npm run docs:config`');
  for (const row of describeSettings()) assert.ok(readme.includes(`| \`${row.env}\` |`), row.env);
});

test('README and docs/operations.md list every format of the registry', () => {
  assert.equal(operations, withFormats(operations), 'docs/operations.md formats table is stale: run `npm run docs:config`');
  for (const format of FORMATS) {
    for (const document of [readme, operations]) assert.ok(document.includes(`| ${format.name} |`), format.name);
  }
});
