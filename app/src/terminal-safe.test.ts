import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable, redactUrl } from './terminal-safe.js';

test('redactUrl drops user and password, and leaves URLs without them as they are', () => {
  assert.equal(redactUrl('http://elastic:hunter2@es.internal:9200'), 'http://***@es.internal:9200');
  assert.equal(redactUrl('https://user@es:9200/path?q=a@b'), 'https://***@es:9200/path?q=a@b');
  assert.equal(redactUrl('elastic:hunter2@es.local:9200'), '***@es.local:9200');
  assert.equal(redactUrl('http://127.0.0.1:9200'), 'http://127.0.0.1:9200');
  assert.equal(redactUrl('http://es:9200/a@b'), 'http://es:9200/a@b');
  assert.equal(redactUrl(''), '');
});

test('printable escapes control characters, newline and escape sequences included, and keeps the rest', () => {
  assert.equal(printable('report\nindexed   forged.txt (9 chunks)'), 'report\\u000aindexed   forged.txt (9 chunks)');
  assert.equal(printable('\u001b]52;c;aGk=\u0007 clip'), '\\u001b]52;c;aGk=\\u0007 clip');
  assert.equal(printable('résumé 東京 \u0085'), 'résumé 東京 \\u0085');
});
