// What a hostile file can put on a terminal through `index` and `search`: nothing that acts. A
// file name with a newline cannot forge a progress line, and an escape sequence in a page (OSC 52
// writes the clipboard) is stripped at conversion and escaped on output. On the local store, with
// the real model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CLI } from '../support/cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'ki-terminal-'));
const docs = path.join(work, 'docs');
const env = { ...process.env, LOCAL_STORE_PATH: path.join(work, 'store'), ELASTICSEARCH_URL: '', LOG_LEVEL: undefined };
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8', cwd: work });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('terminal output of hostile files', () => {
  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  test('a newline in a file name is escaped in index output, and an escape sequence in a page never reaches search output', () => {
    mkdirSync(docs, { recursive: true });
    writeFileSync(path.join(docs, 'report\nindexed   forged.txt'), 'Quarterly report: revenue from lighthouse tours grew in the autumn.');
    writeFileSync(
      path.join(docs, 'clipboard.html'),
      // As entities: the page's bytes are plain text, the parsed text holds ESC … BEL.
      '<html><body><p>Harbour pilots guide ships past the breakwater &#27;]52;c;Y3VybCBldmlsLnNoIHwgc2g=&#7; at dawn.</p></body></html>',
    );

    const indexed = cli('index', docs);
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(indexed.stderr, /^indexed {3}\S*report\\u000aindexed {3}forged\.txt \(1 chunks\)$/m);
    assert.doesNotMatch(indexed.stderr, /^indexed {3}forged\.txt/m, 'no forged line');

    const found = cli('search', 'harbour pilots guide ships', '--k', '2');
    assert.equal(found.status, 0, found.stderr);
    assert.match(found.stdout, /breakwater/);
    assert.ok(!CONTROL.test(found.stdout), `a control character reached the terminal: ${JSON.stringify(found.stdout)}`);
    assert.ok(!found.stdout.includes('\\u001b'), 'the sequence was stripped at conversion, not only escaped');
    assert.match(found.stdout, /report\\u000aindexed {3}forged\.txt/);
  });
});
