// README.md, replayed as a newcomer pastes it: the blocks marked `<!-- replay: … -->` run verbatim
// in a fresh clone of this repository, in a fresh bash with a fresh HOME (so npm's cache and the
// model cache start empty), with nothing in the environment but PATH. The Quickstart runs `npm ci`
// and the demo there, then the same on a folder of the reader's own; the dev-stack walk-through
// starts a dev stack of the clone's own on other ports (so it can end with `scripts/dev-stack
// down`), bootstraps, uploads, drains and searches. `npm ci && npm test` is not replayed: it is
// what runs this test. The clone is of HEAD: commit before running this locally.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { replaySection, ROOT } from '../support/replay.js';

let scratch = '';
let clone = '';

/** The file named by the first hit of the last `search` printed (`1. FILE  (score …)`). */
function firstHitOfLastSearch(stdout: string): string | undefined {
  return [...stdout.matchAll(/^1\. (\S+) {2}\(score /gm)].at(-1)?.[1];
}

/** What a fresh login has: PATH and a locale, and a HOME of its own. */
function freshEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const home = mkdtempSync(path.join(scratch, 'home-'));
  return { HOME: home, PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', npm_config_update_notifier: 'false', ...extra };
}

describe('README.md replayed in a fresh clone', () => {
  before(() => {
    scratch = mkdtempSync(path.join(tmpdir(), 'ki-readme-'));
    clone = path.join(scratch, 'keda-indexer');
    const cloned = spawnSync('git', ['clone', '--quiet', ROOT, clone], { encoding: 'utf8' });
    assert.equal(cloned.status, 0, cloned.stderr);
  });
  after(() => {
    // The dev stack of the clone, if a failed replay left it up.
    spawnSync('scripts/dev-stack', ['down'], { cwd: clone, env: { ...process.env, ...devStackPorts } });
    rmSync(scratch, { recursive: true, force: true });
  });

  test('Quickstart: npm ci, the demo, then index and search a folder of ~/papers', () => {
    const env = freshEnvironment();
    const papers = path.join(env.HOME ?? '', 'papers');
    mkdirSync(papers);
    writeFileSync(path.join(papers, 'evaluation.md'), '# Evaluation\n\nThe model is evaluated on a held-out test set of 2,000 questions, scored by exact match.');
    writeFileSync(path.join(papers, 'training.txt'), 'Training ran for three epochs on a single GPU with a learning rate of 0.0001.');
    const { stdout, output } = replaySection({ file: 'README.md', section: 'quickstart', blocks: 2, cwd: clone, env, timeoutMs: 600_000 });
    assert.match(stdout, /Indexed 5 file\(s\)/, `the demo indexed the five examples:\n${output}`);
    assert.match(stdout, /Indexed 2 file\(s\) \(\d+ chunks\), 0 unchanged, 0 removed, 0 failed/, output);
    // Printed relative to the folder the search ran in.
    assert.match(firstHitOfLastSearch(stdout) ?? '', /(^|\/)papers\/evaluation\.md$/, output);
  });

  // The clone's own stack: the suite's stack stays up on the default ports meanwhile.
  const devStackPorts = { MOTO_PORT: '4586', ES_PORT: '9230' };

  test('With SQS, S3 and Elasticsearch locally: bootstrap, doctor, upload, worker --drain, search, down', () => {
    // The machine's caches of Elasticsearch and the venvs are shared: only npm's and HOME are fresh.
    const cache = process.env.KEDA_INDEXER_CACHE ?? path.join(process.env.HOME ?? '', '.cache', 'keda-indexer');
    const env = freshEnvironment({ ...devStackPorts, KEDA_INDEXER_CACHE: cache });
    const { stdout, output } = replaySection({ file: 'README.md', section: 'dev-stack', blocks: 1, cwd: clone, env, timeoutMs: 600_000 });
    assert.match(stdout, /All checks passed/, output);
    assert.match(output, /"msg":"queue drained"/, output);
    assert.equal(firstHitOfLastSearch(stdout), `s3://docs/volcanoes.txt`, output);
    const status = spawnSync('scripts/dev-stack', ['status'], { cwd: clone, env, encoding: 'utf8' });
    assert.notEqual(status.status, 0, `the walk-through's last step stopped its dev stack: ${status.stdout}${status.stderr}`);
  });
});
