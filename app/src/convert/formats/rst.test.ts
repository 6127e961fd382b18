import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { stripInline } from './rst.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('rst', () => {
  test('inline markup: emphasis, literals, roles, references, footnote references, substitutions', () => {
    assert.equal(stripInline('The **glaze** is *hot*; run ``kilnctl``.'), 'The glaze is hot; run kilnctl.');
    assert.equal(stripInline('See :ref:`the schedule <firing>` and :term:`kiln wash`.'), 'See the schedule and kiln wash.');
    assert.equal(stripInline('Read `the guide <https://x.example>`_ or `Firing`_ or safety_, [1]_ |logo|.'), 'Read the guide or Firing or safety, logo.');
    assert.equal(stripInline('snake_case_name stays, 2*3*4 stays'), 'snake_case_name stays, 2*3*4 stays');
    assert.equal(stripInline('For example::'), 'For example:');
  });

  test('adornments, directives, targets and comments go; content directives keep their text', async () => {
    const rst = [
      '=====',
      'Title',
      '=====',
      '',
      ':Author: Ada',
      '',
      '.. contents::',
      '   :depth: 2',
      '',
      'Section',
      '-------',
      '',
      '.. warning:: Hot surface',
      '',
      '   Do not touch the door.',
      '',
      '.. code-block:: python',
      '',
      '   fire(1240)',
      '',
      '.. image:: photo.jpg',
      '   :alt: a photo',
      '',
      '.. _target: https://x.example',
      '.. a comment',
      '   spanning two lines',
      '',
      '.. [1] A footnote.',
      '',
      'Last paragraph.',
    ].join('\n');
    const { text, type } = await convert(utf8(rst), 'manual.rst', DEFAULT_CONVERT_LIMITS);
    assert.equal(type, 'rst');
    assert.equal(text, 'Title\n\nAuthor: Ada\n\nSection\n\nHot surface\n\nDo not touch the door.\n\nfire(1240)\n\nA footnote.\n\nLast paragraph.');
  });
});
