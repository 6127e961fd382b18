import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safePartName, uniqueName } from './parts.js';

describe('part names', () => {
  test("safe after '#': no controls, no '/', '\\\\' or '#', bounded, never empty", () => {
    assert.equal(safePartName('report\u0000\u001b[31m.pdf', 0), 'report [31m.pdf');
    assert.equal(safePartName('a/b\\c#d.txt', 0), 'a\u2215b\u2215c\uFF03d.txt');
    assert.equal(safePartName('  ', 2, 'application/pdf'), 'attachment-3.pdf');
    assert.equal(safePartName(undefined, 0, 'application/x-unknown'), 'attachment-1');
    assert.equal(safePartName('..', 0), 'attachment-1');
    const long = safePartName(`${'x'.repeat(500)}.docx`, 0);
    assert.equal(long.length, 200);
    assert.ok(long.endsWith('.docx'));
  });

  test('duplicates numbered as a file manager would', () => {
    const taken = new Set<string>();
    assert.deepEqual(['a.pdf', 'a.pdf', 'a.pdf', 'b'].map((name) => uniqueName(name, taken)), ['a.pdf', 'a (2).pdf', 'a (3).pdf', 'b']);
  });
});
