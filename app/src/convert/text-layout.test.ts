import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readingOrder } from './reading-order.js';
import { TextLayout } from './text-layout.js';
import { ConversionError } from './types.js';
import { parseXml } from './xml-tree.js';

describe('TextLayout', () => {
  test('lines, blocks, pages and a table: every offset points at its text', () => {
    const layout = new TextLayout();
    layout.page(1);
    layout.line('  Title  ');
    layout.line('');
    layout.blank();
    layout.page(2);
    layout.table([
      ['Name', ' Value '],
      ['', ''],
      ['alpha', '1'],
    ]);
    layout.line('after');
    layout.blank();
    layout.page(3);
    const { text, pages, tables } = layout.finish();
    assert.equal(text, 'Title\n\nName | Value\nalpha | 1\n\nafter');
    assert.deepEqual(pages, [
      { page: 1, offset: 0 },
      { page: 2, offset: 7 },
      { page: 3, offset: text.length },
    ], 'an empty last page starts at the end');
    assert.deepEqual(tables, [{ start: 7, headerEnd: 19, end: 29 }]);
    assert.equal(text.slice(7, 19), 'Name | Value');
  });

  test('a label is written before the next line only, and a table after it starts after it', () => {
    const layout = new TextLayout();
    layout.line('slide');
    layout.labelNext('Speaker notes:');
    layout.dropLabel();
    layout.labelNext('Speaker notes:');
    layout.table([['h'], ['r']]);
    const { text, tables } = layout.finish();
    assert.equal(text, 'slide\nSpeaker notes:\n\nh\nr');
    assert.equal(text.slice(tables?.[0]?.start, tables?.[0]?.end), 'h\nr');
  });
});

describe('readingOrder', () => {
  test('titles first, then top to bottom and left to right; unplaced shapes keep their slots', () => {
    const order = readingOrder([
      { item: 'bottom', title: false, position: { x: 0, y: 900 } },
      { item: 'unplaced', title: false },
      { item: 'top-right', title: false, position: { x: 500, y: 100 } },
      { item: 'top-left', title: false, position: { x: 0, y: 105 } },
      { item: 'title', title: true },
    ]);
    assert.deepEqual(order, ['title', 'top-left', 'unplaced', 'top-right', 'bottom']);
  });
});

describe('parseXml', () => {
  test('no external entity is read and no entity declared in a DOCTYPE is expanded', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hostname">]><r>&x;</r>';
    const error = (() => {
      try {
        parseXml(xxe, 'TEST');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConversionError);
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /undefined entity/);
  });

  test('predefined entities and character references are read; nesting past the cap is corrupt', () => {
    const root = parseXml('<r a="1">&lt;&#x263A;<![CDATA[<raw>]]></r>', 'TEST');
    assert.deepEqual(root.children, ['<\u263a', '<raw>']);
    assert.throws(() => parseXml(`${'<a>'.repeat(300)}${'</a>'.repeat(300)}`, 'TEST'), /nests XML elements more than 256 deep/);
  });
});
