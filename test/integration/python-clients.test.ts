// Python users of the dev stack: the official `elasticsearch` client (9.x, as `pip install
// elasticsearch` gets it) and Haystack 2's ElasticsearchDocumentStore with its retrievers connect
// to the dev stack's Elasticsearch and retrieve, from an index the worker wrote, the right file
// first. Both start with `GET /` (info), which the bare integ-test distribution answers with 405.
// Query vectors come from the project's own embedder and the real model; the Python side runs in
// cached venvs from test/clients/requirements-*.txt (scripts/lib/common.sh: ki_venv).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import {
  CLI,
  chunksByFile,
  createBucket,
  createQueueWithDeadLetter,
  es,
  putObject,
  keysWithOutcome,
  queueDepth,
  s3Event,
  sendBody,
  settings,
  uniqueName,
} from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const examples = path.join(root, 'examples');
const bucket = uniqueName('pyclients');
const index = uniqueName('pyclients-index');

// Worded unlike the documents, so the vector search has to find the meaning, not the words.
const QUERIES = [
  { text: 'What makes magma burst out of a mountain?', file: 'volcanoes.txt' },
  { text: 'How do bees turn nectar into honey?', file: 'honey-bees.docx' },
  { text: 'How often should I feed my sourdough starter?', file: 'sourdough.md' },
  { text: 'Which animals survive in rock pools when the sea goes out?', file: 'tide-pools.html' },
];
const FILES = ['bicycle-history.pdf', 'honey-bees.docx', 'sourdough.md', 'tide-pools.html', 'volcanoes.txt'];

interface Hit {
  readonly file_path: string | null;
  readonly split_id: number | null;
  readonly content: string;
  readonly score: number | null;
}
interface ClientResult {
  readonly elasticsearch: {
    readonly client_version: string;
    readonly info: { readonly version: string; readonly cluster_name: string; readonly name: string };
    readonly ping: boolean;
    readonly count: number;
    readonly knn: Hit[][];
  };
  readonly haystack?: { readonly count: number; readonly embedding: Hit[][]; readonly bm25: Hit[][] };
}

/** The venv for a requirements file, created (and cached) on first use. */
function venv(requirements: string): string {
  const result = spawnSync('bash', ['-c', 'source scripts/lib/common.sh && ki_venv "$1"', 'ki_venv', requirements], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `ki_venv ${requirements}: ${result.stderr}`);
  return result.stdout.trim();
}

let vectors: number[][] = [];
let chunkCount = 0;

function retrieve(requirements: string, haystack: boolean): ClientResult {
  const python = path.join(venv(requirements), 'bin', 'python');
  const request = { url: settings.elasticsearch.url, index, haystack, queries: QUERIES.map((q, i) => ({ text: q.text, embedding: vectors[i] })) };
  const result = spawnSync(python, [path.join(root, 'test/clients/retrieve.py')], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `retrieve.py (${path.basename(requirements)}) failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as ClientResult;
}

function topFiles(hitsPerQuery: readonly Hit[][]): (string | null | undefined)[] {
  return hitsPerQuery.map((hits) => hits[0]?.file_path);
}

const expectedTop = QUERIES.map((q) => `s3://${bucket}/${q.file}`);

describe('Python clients read what the worker wrote to the dev stack', () => {
  before(async () => {
    const queue = await createQueueWithDeadLetter(uniqueName('pyclients-q'));
    await createBucket(bucket);
    for (const file of FILES) {
      await putObject(bucket, file, readFileSync(path.join(examples, file)));
      await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, file));
    }
    const worker = spawnSync(process.execPath, [CLI, 'worker', '--drain'], {
      env: { ...process.env, ELASTICSEARCH_INDEX: index, SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0' },
      encoding: 'utf8',
    });
    assert.equal(worker.status, 0, worker.stderr);
    // Which files, not how many lines: SQS may deliver a message twice on a loaded machine.
    assert.deepEqual(keysWithOutcome(worker.stderr, 'indexed'), [...FILES].sort(), worker.stderr);
    assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
    const byFile = await chunksByFile(index);
    assert.deepEqual([...byFile.keys()].sort(), FILES.map((f) => `s3://${bucket}/${f}`));
    chunkCount = [...byFile.values()].reduce((sum, chunks) => sum + chunks.length, 0);

    const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
    try {
      vectors = (await embedder.embed(QUERIES.map((q) => q.text), 'query')).map((v) => Array.from(v));
    } finally {
      await embedder.dispose();
    }
  });

  after(async () => {
    await deleteIndexFamily(es, index);
  });

  test('the official client 9.x: info and ping answer for this node, kNN puts the right file first', async () => {
    const { elasticsearch: py } = retrieve('test/clients/requirements-elasticsearch.txt', false);
    assert.match(py.client_version, /^9\./);
    // The node's identity as Elasticsearch reports it elsewhere, not a copy of what GET / says.
    const nodes = await es.nodes.info({ node_id: '_local' });
    const node = Object.values(nodes.nodes)[0];
    assert.deepEqual(py.info, { version: node?.version, cluster_name: nodes.cluster_name, name: node?.name });
    assert.equal(py.ping, true);
    assert.equal(py.count, chunkCount);
    assert.deepEqual(topFiles(py.knn), expectedTop);
  });

  test('Haystack 2: the document store counts every chunk; embedding and BM25 retrievers put the right file first', () => {
    const result = retrieve('test/clients/requirements-haystack.txt', true);
    assert.match(result.elasticsearch.client_version, /^8\./);
    assert.deepEqual(topFiles(result.elasticsearch.knn), expectedTop);
    const haystack = result.haystack;
    assert.ok(haystack);
    assert.equal(haystack.count, chunkCount);
    assert.deepEqual(topFiles(haystack.embedding), expectedTop);
    assert.deepEqual(topFiles(haystack.bm25), expectedTop);
    // Haystack's documents carry the chunk the worker wrote: its text and its place in the file.
    haystack.embedding.forEach((hits, i) => {
      const top = hits[0];
      const direct = result.elasticsearch.knn[i]?.[0];
      assert.ok(top && direct);
      assert.equal(top.content, direct.content);
      assert.equal(top.split_id, direct.split_id);
      assert.ok(top.content.length > 0);
    });
  });
});
