import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withoutControls } from './controls.js';

test('control characters go, tab and newline stay, a lone carriage return becomes a newline', () => {
  const text = 'a\u0007b\u001b]52;c;aGk=\u0007 c\td\r\ne\rf\u0085g\u009bh\u007fi';
  assert.equal(withoutControls({ text }).text, 'ab]52;c;aGk= c\td\ne\nfghi');
});

test('text without controls is returned as it was', () => {
  const converted = { text: 'plain\ttext\nwith lines', pages: [{ page: 1, offset: 0 }] };
  assert.equal(withoutControls(converted), converted);
});

test('page starts move back by the characters removed before them', () => {
  const page1 = 'one\u0000\u0001';
  const page2 = 'two\u001b';
  const page3 = 'three';
  const converted = withoutControls({
    text: page1 + page2 + page3,
    pages: [
      { page: 1, offset: 0 },
      { page: 2, offset: page1.length },
      { page: 3, offset: page1.length + page2.length },
    ],
  });
  assert.equal(converted.text, 'onetwothree');
  assert.deepEqual(converted.pages, [
    { page: 1, offset: 0 },
    { page: 2, offset: 3 },
    { page: 3, offset: 6 },
  ]);
});
