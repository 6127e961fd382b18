// Metadata and access end to end (issue #30), against the dev stack: files in moto's S3 with user
// metadata, tags and sidecars; the built worker indexes them into Elasticsearch; `search` filters
// and refuses as docs/operations.md says; Haystack 2 filters the same fields; a tag or sidecar
// change rewrites the chunks' metadata in place without embedding; every access case stays closed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { sourceIdOf } from '../../app/src/store/document.js';
import { ElasticsearchSink } from '../../app/src/store/elasticsearch/chunks.js';
import { recordsIndexOf } from '../../app/src/store/elasticsearch/file-records.js';
import { resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import {
  CLI,
  createBucket,
  createQueueWithDeadLetter,
  deleteObject,
  es,
  freePort,
  keysWithOutcome,
  logLines,
  s3,
  s3Event,
  sendBody,
  settings,
  startCli,
  takeDeadLetters,
  uniqueName,
  waitFor,
  type TestQueue,
} from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bucket = uniqueName('meta-docs');
const index = uniqueName('meta-index');
let queue: TestQueue;

const METADATA_ENV = {
  S3_READ_TAGS: 'true',
  S3_READ_SIDECARS: 'true',
  ACL_METADATA_KEY: 'allowed',
  METADATA_FIELDS: 'year:number,effective:date',
};

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SQS_QUEUE_URL: queue.queueUrl,
    S3_ALLOWED_BUCKETS: bucket,
    ELASTICSEARCH_INDEX: index,
    SQS_WAIT_TIME_SECONDS: '1',
    SQS_RETRY_BASE_SECONDS: '1',
    SQS_RETRY_MAX_SECONDS: '2',
    HTTP_PORT: '0',
    ...METADATA_ENV,
    ...extra,
  };
}

async function drain(): Promise<string> {
  const worker = startCli(['worker', '--drain'], env());
  const code = await worker.exited;
  assert.equal(code, 0, `worker --drain exited ${String(code)}:\n${worker.output()}`);
  return worker.stderr();
}

/**
 * Runs a worker (not --drain: its /metrics must be read) until `done` holds of its metrics and
 * nothing is in flight; returns its log and those metrics.
 */
async function passWithMetrics(done: RegExp): Promise<{ output: string; metrics: string }> {
  const port = await freePort();
  const worker = startCli(['worker'], env({ HTTP_PORT: String(port) }));
  const metricsText = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  try {
    await waitFor(
      `metrics matching ${String(done)} with nothing in flight`,
      async () => {
        const text = await metricsText().catch(() => '');
        return done.test(text) && /^keda_indexer_in_flight_messages 0$/m.test(text);
      },
      300_000,
    );
    const metrics = await metricsText();
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0);
    return { output: worker.stderr(), metrics };
  } finally {
    if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
  }
}

interface Put {
  readonly key: string;
  readonly text: string;
  readonly metadata?: Record<string, string>;
  readonly tags?: Record<string, string>;
  readonly sidecar?: string;
}

async function put(file: Put): Promise<void> {
  const tagging = file.tags === undefined ? undefined : new URLSearchParams(file.tags).toString();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: file.text, ...(file.metadata ? { Metadata: file.metadata } : {}), ...(tagging ? { Tagging: tagging } : {}) }));
  await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, file.key));
  if (file.sidecar !== undefined) await putSidecar(file.key, file.sidecar);
}

async function putSidecar(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${key}.metadata.json`, Body: body }));
  await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, `${key}.metadata.json`));
}

async function etagOf(key: string): Promise<string> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return (head.ETag ?? '').replace(/"/g, '');
}

async function setTags(key: string, tags: Record<string, string>): Promise<void> {
  await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }));
  await sendBody(queue.queueUrl, s3Event('ObjectTagging:Put', bucket, key, { eTag: await etagOf(key) }));
}

/** Every chunk's stored source per file (metadata is flat in it), sorted by split_id. */
async function sources(): Promise<Map<string, Record<string, unknown>[]>> {
  await es.indices.refresh({ index });
  const result = await es.search<Record<string, unknown>>({ index, size: 1000, query: { match_all: {} }, sort: [{ split_id: 'asc' }], _source: { excludes: ['embedding'] } });
  const byFile = new Map<string, Record<string, unknown>[]>();
  for (const hit of result.hits.hits) {
    const source = hit._source;
    if (source === undefined) continue;
    const key = String(source.file_path).replace(`s3://${bucket}/`, '');
    byFile.set(key, [...(byFile.get(key) ?? []), source]);
  }
  return byFile;
}

function search(args: readonly string[], extra: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, 'search', 'budgets contracts and notes', '--k', '20', ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', ELASTICSEARCH_INDEX: index, ...extra },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The keys `search --json` returns with these flags, as a sorted set. */
function found(args: readonly string[]): string[] {
  const result = search(['--json', ...args]);
  assert.equal(result.status, 0, result.stderr);
  const hits = JSON.parse(result.stdout) as { file_path: string }[];
  return [...new Set(hits.map((hit) => hit.file_path.replace(`s3://${bucket}/`, '')))].sort();
}

const BUDGET: Put = {
  key: 'finance/budget.txt',
  text: 'The travel budget for the year covers flights, hotels and conference fees for the finance team.',
  metadata: { department: 'from-metadata', language: 'en', allowed: 'group:all' },
  tags: { department: 'from-tags', allowed: 'group:finance', status: 'draft' },
  sidecar: JSON.stringify({ metadataAttributes: { department: 'finance', effective: '2024-03-01', year: 2024 } }),
};
const CONTRACT: Put = { key: 'legal/contract.txt', text: 'The supplier contract sets payment terms of thirty days and a penalty for late delivery.', tags: { department: 'legal', allowed: 'user:ana' } };
const NO_KEY: Put = { key: 'open/no-key.txt', text: 'Meeting notes without any access key: who may read them is not said.', tags: { department: 'ops' } };
const EMPTY_LIST: Put = { key: 'open/empty-list.txt', text: 'Meeting notes whose access list is present but empty.', tags: { department: 'ops', allowed: '' } };
const BAD_SIDECAR: Put = {
  key: 'open/bad-sidecar.txt',
  text: 'Meeting notes whose sidecar is broken JSON, while its tags would open it to everyone.',
  tags: { department: 'ops', allowed: 'group:all' },
  sidecar: '{"metadataAttributes": {"allowed": ["group:board"]',
};
const ALL = [BUDGET, CONTRACT, NO_KEY, EMPTY_LIST, BAD_SIDECAR].map((file) => file.key).sort();

describe('metadata and access', () => {
  let firstPass = '';

  before(async () => {
    queue = await createQueueWithDeadLetter(uniqueName('meta-queue'), 5);
    await createBucket(bucket);
    for (const file of [BUDGET, CONTRACT, NO_KEY, EMPTY_LIST, BAD_SIDECAR]) await put(file);
    firstPass = await drain();
  });
  after(async () => {
    await deleteIndexFamily(es, index);
  });

  test('every file is indexed, no sidecar is a document, nothing is dead-lettered', async () => {
    const byFile = await sources();
    assert.deepEqual([...byFile.keys()].sort(), ALL);
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
    // The bad sidecar is a warning with its reason on the file's line, never a dead letter.
    const warning = logLines(firstPass).find((line) => line.key === BAD_SIDECAR.key && Array.isArray(line.warnings));
    assert.match(JSON.stringify(warning?.warnings), /sidecar refused, file indexed without it: not JSON/);
  });

  test('three sources, later wins: user metadata < tags < sidecar; declared types applied', async () => {
    const chunk = (await sources()).get(BUDGET.key)?.at(0);
    assert.ok(chunk);
    assert.equal(chunk.department, 'finance', 'the sidecar wins over tags and user metadata');
    assert.equal(chunk.status, 'draft', 'from the tags');
    assert.equal(chunk.language, 'en', 'from the user metadata');
    assert.equal(chunk.year, 2024);
    assert.equal(chunk.effective, '2024-03-01');
    assert.deepEqual(chunk.acl_principals, ['group:finance'], 'the tag wins over the user metadata; the key is not kept as meta');
    assert.equal(chunk.acl_public, false);
    assert.equal(chunk.allowed, undefined);
    const mapping = await es.indices.getMapping({ index });
    const properties = Object.values(mapping)[0]?.mappings.properties ?? {};
    assert.equal(properties.year?.type, 'double', 'declared number (METADATA_FIELDS)');
    assert.equal(properties.effective?.type, 'date');
    assert.equal(properties.department?.type, 'keyword', 'typed by its value (dynamic template)');
    assert.equal(properties.acl_principals?.type, 'keyword');
  });

  test('search refuses without --as or --all on an access-controlled index, even with no ACL setting', () => {
    const refused = search(['--json']);
    assert.equal(refused.status, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /access-controlled .*--as <principal,\.\.\.>, or --all/);
    assert.equal(search(['--as', 'user:ana', '--all']).status, 2);
  });

  test('fail-closed: absent key, empty list and a broken sidecar are readable by no principal', () => {
    assert.deepEqual(found(['--all']), ALL);
    assert.deepEqual(found(['--as', 'group:finance']), [BUDGET.key]);
    assert.deepEqual(found(['--as', 'user:ana']), [CONTRACT.key]);
    assert.deepEqual(found(['--as', 'user:ana,group:finance']), [BUDGET.key, CONTRACT.key]);
    // group:all is named by the user metadata of the budget (overridden by its tag) and by the
    // tags of the file whose sidecar is broken: neither opens anything.
    assert.deepEqual(found(['--as', 'group:all']), []);
    assert.deepEqual(found(['--as', 'group:board']), []);
  });

  test('--filter: equality, any of a list, ranges; --json shows each hit\'s meta', () => {
    assert.deepEqual(found(['--all', '--filter', 'department=legal']), [CONTRACT.key]);
    assert.deepEqual(found(['--all', '--filter', 'department=finance,legal']), [BUDGET.key, CONTRACT.key]);
    assert.deepEqual(found(['--all', '--filter', 'effective>=2024-01-01']), [BUDGET.key]);
    assert.deepEqual(found(['--all', '--filter', 'effective>=2025-01-01']), []);
    assert.deepEqual(found(['--all', '--filter', 'year<2025', '--filter', 'Department=finance']), [BUDGET.key]);
    assert.deepEqual(found(['--as', 'user:ana', '--filter', 'department=finance']), [], 'filters and access both hold');
    const result = search(['--json', '--as', 'group:finance']);
    const [hit] = JSON.parse(result.stdout) as { meta?: Record<string, unknown> }[];
    assert.deepEqual(hit?.meta, { department: 'finance', effective: '2024-03-01', language: 'en', status: 'draft', year: 2024 });
    assert.equal(search(['--all', '--filter', 'department']).status, 2);
  });

  test('Haystack 2 filters the same fields: meta.<name>, and the access rule an application applies', async () => {
    const venv = spawnSync('bash', ['-c', 'source scripts/lib/common.sh && ki_venv test/clients/requirements-haystack.txt'], { cwd: root, encoding: 'utf8' });
    assert.equal(venv.status, 0, venv.stderr);
    const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
    let vector: number[];
    try {
      const [query] = await embedder.embed(['contract payment terms'], 'query');
      assert.ok(query);
      vector = Array.from(query);
    } finally {
      await embedder.dispose();
    }
    const readableBy = (principals: string[]) => ({
      operator: 'OR',
      conditions: [
        { field: 'meta.acl_public', operator: '==', value: true },
        { field: 'meta.acl_principals', operator: 'in', value: principals },
      ],
    });
    const request = {
      url: settings.elasticsearch.url,
      index,
      embedding: vector,
      cases: [
        { name: 'department', filters: { field: 'meta.department', operator: '==', value: 'legal' } },
        { name: 'year', filters: { field: 'meta.year', operator: '>=', value: 2024 } },
        { name: 'ana', filters: readableBy(['user:ana']) },
        { name: 'ana_finance', filters: { operator: 'AND', conditions: [readableBy(['user:ana']), { field: 'meta.department', operator: '==', value: 'finance' }] } },
      ],
    };
    const python = path.join(venv.stdout.trim(), 'bin', 'python');
    const result = spawnSync(python, [path.join(root, 'test/clients/filter_meta.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    assert.equal(result.status, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as Record<string, { filter: { file_path: string; department: string; year: number | null }[]; retriever: { file_path: string }[] }>;
    const files = (hits: { file_path: string }[]) => [...new Set(hits.map((hit) => hit.file_path.replace(`s3://${bucket}/`, '')))].sort();
    assert.deepEqual(files(answer.department?.filter ?? []), [CONTRACT.key]);
    assert.equal(answer.department?.filter[0]?.department, 'legal', 'Haystack reads the metadata as Document.meta');
    assert.deepEqual(files(answer.department.retriever), [CONTRACT.key]);
    assert.deepEqual(files(answer.year?.filter ?? []), [BUDGET.key]);
    assert.equal(answer.year?.filter[0]?.year, 2024);
    assert.deepEqual(files(answer.ana?.filter ?? []), [CONTRACT.key]);
    assert.deepEqual(files(answer.ana?.retriever ?? []), [CONTRACT.key]);
    assert.deepEqual(files(answer.ana_finance?.filter ?? []), []);
  });

  test('a tag change re-embeds nothing, updates the chunks in place, and revokes access in one pass', async () => {
    const before = (await sources()).get(CONTRACT.key) ?? [];
    await setTags(CONTRACT.key, { department: 'legal', allowed: 'user:bo group:legal' });
    const { output, metrics } = await passWithMetrics(/^keda_indexer_metadata_updates_total 1$/m);
    assert.deepEqual(keysWithOutcome(output, 'metadata_updated'), [CONTRACT.key], output);
    assert.deepEqual(keysWithOutcome(output, 'indexed'), [], 'nothing downloaded, converted or embedded');
    assert.match(metrics, /^keda_indexer_chunks_embedded_total 0$/m, 'no model call');
    assert.match(metrics, /^keda_indexer_files_indexed_total 0$/m);
    const afterChange = (await sources()).get(CONTRACT.key) ?? [];
    assert.equal(afterChange.length, before.length);
    assert.deepEqual(
      afterChange.map((chunk) => chunk.indexed_at),
      before.map((chunk) => chunk.indexed_at),
      'the chunks are the ones written before, rewritten with new metadata',
    );
    assert.deepEqual(afterChange[0]?.acl_principals, ['group:legal', 'user:bo'], 'principals in a tag are separated by spaces (tag values cannot hold commas)');
    assert.deepEqual(found(['--as', 'user:ana']), [], 'access revoked after one worker pass');
    assert.deepEqual(found(['--as', 'user:bo']), [CONTRACT.key]);
    // The same tags again: unchanged, nothing written.
    await sendBody(queue.queueUrl, s3Event('ObjectTagging:Put', bucket, CONTRACT.key, { eTag: await etagOf(CONTRACT.key) }));
    assert.deepEqual(keysWithOutcome(await drain(), 'unchanged'), [CONTRACT.key]);
  });

  test('a sidecar created, changed or deleted re-indexes its document\'s metadata only', async () => {
    await putSidecar(BUDGET.key, JSON.stringify({ department: 'treasury', allowed: ['group:finance', 'user:cy'] }));
    let output = await drain();
    assert.deepEqual(keysWithOutcome(output, 'metadata_updated'), [BUDGET.key], output);
    let chunk = (await sources()).get(BUDGET.key)?.at(0);
    assert.equal(chunk?.department, 'treasury');
    assert.equal(chunk.year, undefined, 'fields the new sidecar does not have are gone');
    assert.deepEqual(chunk.acl_principals, ['group:finance', 'user:cy']);

    await deleteObject(bucket, `${BUDGET.key}.metadata.json`);
    await sendBody(queue.queueUrl, s3Event('ObjectRemoved:Delete', bucket, `${BUDGET.key}.metadata.json`));
    output = await drain();
    assert.deepEqual(keysWithOutcome(output, 'metadata_updated'), [BUDGET.key], output);
    chunk = (await sources()).get(BUDGET.key)?.at(0);
    assert.equal(chunk?.department, 'from-tags', 'back to the tags once the sidecar is gone');
    assert.deepEqual(chunk.acl_principals, ['group:finance']);
    assert.deepEqual(found(['--as', 'user:cy']), []);
  });

  test('a revoke and a content edit arriving out of order: the file ends with its new text and the revoked access', async () => {
    const oldEtag = await etagOf(CONTRACT.key);
    // The edit replaces the text and the tags at once; its event comes first, the older tagging
    // event (with the old ETag) after it.
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: CONTRACT.key, Body: 'The renewed supplier contract sets payment terms of ninety days.', Tagging: 'department=legal&allowed=user%3Acy' }),
    );
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, CONTRACT.key, { eTag: await etagOf(CONTRACT.key) }));
    await sendBody(queue.queueUrl, s3Event('ObjectTagging:Put', bucket, CONTRACT.key, { eTag: oldEtag }));
    const output = await drain();
    assert.deepEqual(keysWithOutcome(output, 'indexed'), [CONTRACT.key]);
    assert.deepEqual(keysWithOutcome(output, 'metadata_updated'), [], 'the stale tagging event finds the object and its metadata as indexed');
    const chunks = (await sources()).get(CONTRACT.key) ?? [];
    assert.match(chunks.map((chunk) => String(chunk.content)).join(' '), /ninety days/);
    assert.ok(chunks.every((chunk) => JSON.stringify(chunk.acl_principals) === '["user:cy"]'), JSON.stringify(chunks.map((chunk) => chunk.acl_principals)));
    assert.deepEqual(found(['--as', 'user:bo']), [], 'the revoked principal sees nothing');
    assert.deepEqual(found(['--as', 'user:cy']), [CONTRACT.key]);
  });

  test('a metadata update under an older claim is dropped: the later claim\'s metadata stays', async () => {
    const resolved = await resolveIndex(es, index);
    const physical = resolved.kind === 'missing' ? index : resolved.index;
    const sink = new ElasticsearchSink(es, { ...settings.elasticsearch, index: physical }, { fields: {}, acl: true });
    const filePath = `s3://${bucket}/${CONTRACT.key}`;
    const indexed = await sink.indexedFrom(filePath);
    assert.ok(indexed?.chunks !== undefined && indexed.chunks > 0);
    const older = await sink.claim(filePath);
    const later = await sink.claim(filePath);
    const revoke = { meta: { department: 'legal' }, acl_principals: [], acl_public: false };
    assert.deepEqual(await sink.updateMetadata(later, indexed.chunks, revoke, indexed), { updated: indexed.chunks, superseded: false });
    const stale = await sink.updateMetadata(older, indexed.chunks, { meta: { department: 'legal' }, acl_principals: ['user:ana'], acl_public: false }, indexed);
    assert.deepEqual(stale, { updated: 0, superseded: true });
    const chunk = (await sources()).get(CONTRACT.key)?.at(0);
    assert.deepEqual(chunk?.acl_principals, []);
    const record = await es.get<{ generation: number; state: string }>({ index: recordsIndexOf(physical), id: sourceIdOf(filePath) });
    assert.equal(record._source?.generation, later.generation);
    assert.equal(record._source.state, 'indexed');
  });
});
