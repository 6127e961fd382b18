// The project's npm configuration is one npm understands: no "Unknown project config" warning on
// every npm command (onnxruntime-node's install script is denied by package.json's allowScripts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('npm commands in the repository print no warning about the project config', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync('npm', ['config', 'get', 'registry'], { cwd: root, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /Unknown (project|user|env|builtin) config/, result.stderr);
});
