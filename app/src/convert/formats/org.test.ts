import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { stripInline } from './org.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('org', () => {
  test('inline markup: links, emphasis, timestamps, footnote references', () => {
    assert.equal(stripInline('See [[https://x.example][the log]] and [[file:notes.org]].'), 'See the log and file:notes.org.');
    assert.equal(stripInline('The *north* hives gave /31 kg/ of =heather= ~honey~ and +wax+ _too_.[fn:1]'), 'The north hives gave 31 kg of heather honey and wax too.');
    assert.equal(stripInline('Due <2024-04-12 Fri 10:00> or [2024-04-13 Sat].'), 'Due 2024-04-12 Fri 10:00 or 2024-04-13 Sat.');
    assert.equal(stripInline('a/b/c and 2*3*4 stay'), 'a/b/c and 2*3*4 stay');
  });

  test('headline keywords and tags, keywords, drawers, blocks, comments and table rules go', async () => {
    const org = [
      '#+TITLE: Apiary journal',
      '#+STARTUP: overview',
      '* TODO [#A] Inspect the hives   :hives:spring:',
      '  :PROPERTIES:',
      '  :ID: 42',
      '  :END:',
      '  Thirty-one kilograms of honey.',
      '#+BEGIN_COMMENT',
      'Hidden.',
      '#+END_COMMENT',
      '#+begin_quote',
      'Bees are busy.',
      '#+end_quote',
      '# a comment',
      '| hive | frames |',
      '|------+--------|',
      '| N1   | 9      |',
    ].join('\n');
    const { text, type } = await convert(utf8(org), 'journal.org', DEFAULT_CONVERT_LIMITS);
    assert.equal(type, 'org');
    assert.equal(text, 'Apiary journal\nInspect the hives\nThirty-one kilograms of honey.\nBees are busy.\nhive | frames\nN1 | 9');
  });
});
