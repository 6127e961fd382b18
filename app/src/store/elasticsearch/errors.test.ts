// Which of Elasticsearch's answers are transient, permanent or an authorization error: the table
// in docs/operations.md ("Which failures are retried"), one answer each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errors } from '@elastic/elasticsearch';
import { AuthorizationError, PermanentError, TransientError } from '../../failure.js';
import { classifyElasticsearchError, errorTypeOf } from './errors.js';

function answer(statusCode: number, type: string, reason = 'because'): errors.ResponseError {
  const meta = { body: { error: { type, reason }, status: statusCode }, statusCode, headers: {}, warnings: null, meta: { context: null, name: 'es', request: { params: { method: 'POST', path: '/_bulk' }, options: {}, id: 1 }, connection: null, attempts: 0, aborted: false } };
  return new errors.ResponseError(meta);
}

test('401 and 403 are authorization errors: retried, with the fix', () => {
  for (const [status, fix] of [
    [401, /ELASTICSEARCH_API_KEY/],
    [403, /grant the worker's Elasticsearch user/],
  ] as const) {
    const classified = classifyElasticsearchError(answer(status, 'security_exception'), 'bulk write');
    assert.ok(classified instanceof AuthorizationError, `${status}: ${classified.name}`);
    assert.equal(classified.reason, 'elasticsearch_unauthorized');
    assert.match(classified.fix, fix);
  }
});

test('429 and 5xx are transient; a missing index is transient too', () => {
  for (const [status, type, reason] of [
    [429, 'es_rejected_execution_exception', 'elasticsearch_unavailable'],
    [503, 'unavailable_shards_exception', 'elasticsearch_unavailable'],
    [404, 'index_not_found_exception', 'elasticsearch_index_missing'],
  ] as const) {
    const classified = classifyElasticsearchError(answer(status, type), 'bulk write');
    assert.ok(classified instanceof TransientError && !(classified instanceof AuthorizationError), `${status} ${type}: ${classified.name}`);
    assert.equal(classified.reason, reason);
  }
});

test("other 4xx are the document's fault: index_rejected, with the field value withheld", () => {
  const classified = classifyElasticsearchError(answer(400, 'document_parsing_exception', "failed to parse field [page_number]. Preview of field's value: 'secret text'"), 'bulk write');
  assert.ok(classified instanceof PermanentError);
  assert.equal(classified.reason, 'index_rejected');
  assert.doesNotMatch(classified.message, /secret text/);
});

test("a client that cannot reach the cluster is transient", () => {
  const classified = classifyElasticsearchError(new errors.ConnectionError('connect ECONNREFUSED'), 'bulk write');
  assert.ok(classified instanceof TransientError);
  assert.equal(classified.reason, 'elasticsearch_unavailable');
});

test('errorTypeOf reads the type from the answer, not from its text', () => {
  assert.equal(errorTypeOf(answer(400, 'resource_already_exists_exception')), 'resource_already_exists_exception');
  // A reason that merely mentions the type is not that type.
  assert.equal(errorTypeOf(answer(400, 'illegal_argument_exception', 'resource_already_exists_exception')), 'illegal_argument_exception');
  assert.equal(errorTypeOf(new Error('resource_already_exists_exception')), undefined);
});
