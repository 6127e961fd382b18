// How Elasticsearch's answers map to the worker's failure kinds, in one place for every module
// that talks to it (chunks, file records, aliases). docs/operations.md, "Which failures are
// retried", has the table this implements.
import { errors } from '@elastic/elasticsearch';
import { AuthorizationError, PermanentError, TransientError } from '../../failure.js';

/**
 * Elasticsearch quotes the start of a value it could not parse ("Preview of field's value: '…'").
 * That is document text, and these messages go to logs and the dead-letter queue: cut it, and
 * everything after it, since a quoted value may span lines.
 */
export function withoutFieldValues(message: string): string {
  return message.replace(/Preview of field's value:[\s\S]*$/, '(field value withheld)');
}

export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Maps client errors to the worker's two kinds: an unreachable or overloaded cluster is transient. */
export function classifyElasticsearchError(error: unknown, action: string): Error {
  if (error instanceof errors.ResponseError) {
    const status = error.statusCode ?? 0;
    if (status === 401 || status === 403) {
      return new AuthorizationError(
        'elasticsearch_unauthorized',
        `${action}: HTTP ${status}`,
        status === 401 ? 'check ELASTICSEARCH_API_KEY or ELASTICSEARCH_USERNAME/PASSWORD' : "grant the worker's Elasticsearch user write and read on the index, its alias and <index>-files (docs/elasticsearch.md)",
        { cause: error },
      );
    }
    if (isTransientStatus(status)) return new TransientError('elasticsearch_unavailable', `${action}: HTTP ${status}`, { cause: error });
    // The index (or the records index) is gone: the cluster's state, not the file's; retried
    // until the worker's next start (or bootstrap) makes it again.
    if (status === 404 && errorTypeOf(error) === 'index_not_found_exception') {
      return new TransientError('elasticsearch_index_missing', `${action}: ${withoutFieldValues(error.message)}`, { cause: error });
    }
    // No `cause`: the response it carries may quote document text, and logs serialise causes.
    return new PermanentError('index_rejected', `${action}: HTTP ${status} ${withoutFieldValues(error.message)}`);
  }
  if (error instanceof errors.ElasticsearchClientError) {
    return new TransientError('elasticsearch_unavailable', `${action}: ${error.name}: ${error.message}`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The `error.type` of an Elasticsearch answer (resource_already_exists_exception…), read from the body's structure. */
export function errorTypeOf(error: unknown): string | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body: unknown = error.body;
  if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
  const detail: unknown = body.error;
  return typeof detail === 'object' && detail !== null && 'type' in detail && typeof detail.type === 'string' ? detail.type : undefined;
}
