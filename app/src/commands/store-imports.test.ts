// No command knows which store it has (issue #29): commands reach the store through the port
// (store/port.ts) and the composition root (runtime.ts), never an adapter or its client library.
// Imports are read with TypeScript's own pre-processor, so `import type`, re-exports and dynamic
// `import()` count too.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const commands = path.dirname(fileURLToPath(import.meta.url));
const store = path.resolve(commands, '../store');
const ADAPTERS = [path.join(store, 'elasticsearch'), path.join(store, 'local')];
const PACKAGES = ['@elastic/elasticsearch'];

/** The imports of `file` that reach an adapter, as `file: specifier`. */
function adapterImportsOf(file: string, source: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((specifier) => {
      if (PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`))) return true;
      if (!specifier.startsWith('.')) return false;
      const target = path.resolve(path.dirname(file), specifier);
      return ADAPTERS.some((adapter) => target === adapter || target.startsWith(adapter + path.sep));
    })
    .map((specifier) => `${path.basename(file)}: ${specifier}`);
}

test('the scan finds every kind of import of an adapter', () => {
  const file = path.join(commands, 'example.ts');
  const source = [
    "import { Client } from '@elastic/elasticsearch';",
    "import type { RecordClaim } from '../store/elasticsearch/file-records.js';",
    "export { LocalStore } from '../store/local/local-store.js';",
    "const later = await import('../store/elasticsearch/chunks.js');",
    "import { buildRuntime } from '../runtime.js';",
    "import type { ChunkStore } from '../store/port.js';",
  ].join('\n');
  assert.deepEqual(adapterImportsOf(file, source), [
    "example.ts: @elastic/elasticsearch",
    'example.ts: ../store/elasticsearch/file-records.js',
    'example.ts: ../store/local/local-store.js',
    'example.ts: ../store/elasticsearch/chunks.js',
  ]);
});

test('no command imports a store adapter or the Elasticsearch client', () => {
  const found = readdirSync(commands)
    .filter((name) => name.endsWith('.ts'))
    .flatMap((name) => adapterImportsOf(path.join(commands, name), readFileSync(path.join(commands, name), 'utf8')));
  assert.deepEqual(found, [], 'commands reach the store through store/port.ts and runtime.ts (buildRuntime)');
});
