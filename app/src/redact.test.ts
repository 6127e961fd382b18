import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactUrl } from './redact.js';

test('redactUrl drops user and password, and leaves URLs without them as they are', () => {
  assert.equal(redactUrl('http://elastic:hunter2@es.internal:9200'), 'http://***@es.internal:9200');
  assert.equal(redactUrl('https://user@es:9200/path?q=a@b'), 'https://***@es:9200/path?q=a@b');
  assert.equal(redactUrl('elastic:hunter2@es.local:9200'), '***@es.local:9200');
  assert.equal(redactUrl('http://127.0.0.1:9200'), 'http://127.0.0.1:9200');
  assert.equal(redactUrl('http://es:9200/a@b'), 'http://es:9200/a@b');
  assert.equal(redactUrl(''), '');
});
