// Docs that run: the fenced `sh` blocks of a Markdown file marked `<!-- replay: NAME -->` (the
// marker on the line right above the fence), run verbatim in a fresh bash with a fresh HOME, as a
// reader pastes them. Used by test/integration/docs-replay.test.ts and readme-replay.test.ts.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The `sh` blocks of `file` (relative to the root) marked `<!-- replay: name -->`, unindented. */
export function replayBlocks(file: string, name: string): string[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== `<!-- replay: ${name} -->`) continue;
    const fence = /^(\s*)```sh\s*$/.exec(lines[i + 1] ?? '');
    assert.ok(fence, `${file} line ${i + 2}: a replay marker must sit right above a \`\`\`sh fence`);
    const indent = fence[1] ?? '';
    const body: string[] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j]?.trim() !== '```'; j++) body.push((lines[j] ?? '').slice(indent.length));
    assert.ok(j < lines.length, `${file} line ${i + 2}: unclosed fence`);
    blocks.push(body.join('\n'));
  }
  return blocks;
}

/**
 * Runs the blocks marked `section` in `file`, verbatim and in order, in one fresh
 * `bash -euxo pipefail` (each command echoed) in `cwd`, with only `env` for its environment.
 * Returns what it printed (`stdout`, and `output`: stdout then stderr, where the commands are
 * echoed); fails the test, with that output, when a command fails.
 */
export function replaySection(options: { file: string; section: string; blocks: number; cwd: string; env: Record<string, string>; timeoutMs?: number }): { stdout: string; output: string } {
  const { file, section } = options;
  const blocks = replayBlocks(file, section);
  assert.equal(blocks.length, options.blocks, `${file}: ${options.blocks} block(s) marked "replay: ${section}"`);
  const result = spawnSync('bash', ['--noprofile', '--norc', '-euxo', 'pipefail', '-c', blocks.join('\n')], {
    cwd: options.cwd,
    env: options.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.status, 0, `the "${section}" steps of ${file} failed:\n${output}`);
  return { stdout: result.stdout, output };
}
