// The worker end to end, as a user runs it (the built CLI in its own process), against the real
// dev stack: moto for SQS and S3, Elasticsearch, and the all-MiniLM-L6-v2 model.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, Socket, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { sourceIdOf, type ChunkDocument } from '../../app/src/store/document.js';
import { indexMapping } from '../../app/src/store/elasticsearch/chunks.js';
import { recordsIndexOf, type FileRecord } from '../../app/src/store/elasticsearch/file-records.js';
import { resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';
import {
  CLI,
  chunksByFile,
  createBucket,
  createQueueWithDeadLetter,
  deleteObject,
  es,
  freePort,
  putObject,
  queueDepth,
  s3Event,
  sendBody,
  settings,
  sqs,
  startCli,
  takeDeadLetters,
  uniqueName,
  waitFor,
  type TestQueue,
} from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

const bucket = uniqueName('worker-docs');
const index = uniqueName('worker-index');
let queue: TestQueue;
let embedder: Embedder;

function workerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    SQS_QUEUE_URL: queue.queueUrl,
    S3_ALLOWED_BUCKETS: bucket,
    ELASTICSEARCH_INDEX: index,
    SQS_WAIT_TIME_SECONDS: '1',
    SQS_RETRY_BASE_SECONDS: '1',
    SQS_RETRY_MAX_SECONDS: '2',
    HTTP_PORT: '0',
    ...extra,
  };
}

/** Runs `worker --drain` to completion and returns its exit code and output. */
async function drain(extra: Record<string, string> = {}): Promise<string> {
  const worker = startCli(['worker', '--drain'], workerEnv(extra));
  const code = await worker.exited;
  assert.equal(code, 0, `worker --drain exited ${String(code)}:\n${worker.output()}`);
  return worker.output();
}

async function topFileFor(question: string): Promise<string | undefined> {
  const [vector] = await embedder.embed([question], 'query');
  assert.ok(vector);
  await es.indices.refresh({ index });
  const result = await es.search<ChunkDocument>({
    index,
    knn: { field: 'embedding', query_vector: Array.from(vector), k: 3, num_candidates: 50 },
    _source: ['file_path'],
  });
  return result.hits.hits[0]?._source?.file_path;
}

/** Asserts every file's chunks are numbered 0..n-1 exactly once: nothing duplicated or lost. */
function assertNoDuplicates(byFile: Map<string, ChunkDocument[]>): void {
  for (const [file, chunks] of byFile) {
    assert.deepEqual(
      chunks.map((c) => c.split_id),
      chunks.map((_, i) => i),
      `${file} has duplicated or missing chunks`,
    );
  }
}

const CORPUS: Record<string, () => Promise<Uint8Array | string>> = {
  'notes/volcanoes.txt': () =>
    Promise.resolve(
      'Volcanoes erupt when magma rises through the crust. Dissolved gases such as water vapour and carbon dioxide expand as the pressure drops, and sticky silica-rich magma explodes into ash clouds.',
    ),
  'notes/sourdough bread.md': () =>
    Promise.resolve('# Sourdough\n\nA sourdough **starter** of flour and water hosts wild yeast that leavens the bread. Feed it daily and bake the loaf in a hot Dutch oven.'),
  'pages/tide-pools.html': () =>
    Promise.resolve('<html><body><h1>Tide pools</h1><p>Sea anemones, hermit crabs and starfish live in rock pools left by the retreating tide.</p><script>var x = 1;</script></body></html>'),
  'reports/chess.pdf': () =>
    makePdf(['Chess openings: the Sicilian Defence answers 1.e4 with c5.', 'Castling early keeps the king safe and connects the rooks.']),
  'reports/bees.docx': () =>
    makeDocx([{ heading: 'Honey bees', paragraphs: ['Worker bees collect nectar and turn it into honey inside the hive, fanning their wings to evaporate water.'] }]),
};

describe('worker', () => {
  before(async () => {
    // Redeliveries while Elasticsearch is cut (the outage test) must not reach the dead-letter queue.
    queue = await createQueueWithDeadLetter(uniqueName('worker-queue'), 100);
    await createBucket(bucket);
    embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  });
  after(async () => {
    await embedder.dispose();
    await deleteIndexFamily(es, index);
  });

  test('--drain exits 0 on an empty queue', async () => {
    const output = await drain();
    assert.match(output, /queue drained/);
    // The session the worker preloaded at start (app/src/embed/preload.ts) is the one transformers.js
    // asked for: if transformers.js ever asks for other options, this says so.
    assert.match(output, /"preload":"used"[^\n]*"msg":"model loaded"/);
    // The model's tokenizer is put together word by word (app/src/embed/word-tokens.ts): if a
    // transformers.js upgrade changes how it tokenizes, the probes fall back and this says so.
    assert.match(output, /"tokenCounting":\{"mode":"words"\}[^\n]*"msg":"model loaded"/);
  });

  test('every file type is indexed end to end and found by a question about it', async () => {
    for (const [key, make] of Object.entries(CORPUS)) await putObject(bucket, key, await make());
    const keys = Object.keys(CORPUS);
    // Both message shapes: S3 notifications (keys form-encoded) and {bucket, key}.
    for (const [i, key] of keys.entries()) {
      await sendBody(queue.queueUrl, i % 2 === 0 ? s3Event('ObjectCreated:Put', bucket, key) : JSON.stringify({ bucket, key }));
    }
    await sendBody(queue.queueUrl, JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: bucket }));
    await drain();

    const byFile = await chunksByFile(index);
    assert.deepEqual([...byFile.keys()].sort(), keys.map((key) => `s3://${bucket}/${key}`).sort());
    assertNoDuplicates(byFile);
    const pdf = byFile.get(`s3://${bucket}/reports/chess.pdf`) ?? [];
    assert.equal(pdf[0]?.page_number, 1, 'PDF chunks carry the page they start on');
    assert.ok(pdf.every((c) => typeof c.page_number === 'number'));
    assert.equal(byFile.get(`s3://${bucket}/pages/tide-pools.html`)?.[0]?.content.includes('var x'), false, 'script text is not indexed');

    assert.equal(await topFileFor('How do bees make honey?'), `s3://${bucket}/reports/bees.docx`);
    assert.equal(await topFileFor('Why do volcanoes explode?'), `s3://${bucket}/notes/volcanoes.txt`);
    assert.equal(await topFileFor('which animals live in rock pools at the beach'), `s3://${bucket}/pages/tide-pools.html`);
    assert.equal(await topFileFor('how to respond to king pawn opening'), `s3://${bucket}/reports/chess.pdf`);
    assert.equal(await topFileFor('baking bread with wild yeast'), `s3://${bucket}/notes/sourdough bread.md`);

    assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
  });

  test('redelivery of the same message leaves the chunk count unchanged', async () => {
    const before = await chunksByFile(index);
    await sendBody(queue.queueUrl, JSON.stringify({ bucket, key: 'notes/volcanoes.txt' }));
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, 'reports/chess.pdf'));
    await drain();
    const afterRedelivery = await chunksByFile(index);
    for (const [file, chunks] of before) assert.equal(afterRedelivery.get(file)?.length, chunks.length, file);
  });

  test('an edited file replaces its old text; a removed file loses its chunks', async () => {
    const edited = 'notes/sourdough bread.md';
    await putObject(bucket, edited, '# Rye\n\nRye flour makes a dense, dark loaf.');
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, edited));
    await deleteObject(bucket, 'pages/tide-pools.html');
    await sendBody(queue.queueUrl, s3Event('ObjectRemoved:Delete', bucket, 'pages/tide-pools.html'));
    await drain();
    const byFile = await chunksByFile(index);
    const text = (byFile.get(`s3://${bucket}/${edited}`) ?? []).map((c) => c.content).join(' ');
    assert.match(text, /Rye flour/);
    assert.doesNotMatch(text, /Dutch oven|starter/);
    assert.equal(byFile.has(`s3://${bucket}/pages/tide-pools.html`), false);
  });

  test('poison messages are dead-lettered with a reason and the worker keeps consuming', async () => {
    await putObject(bucket, 'bad/picture.gif', new Uint8Array([...new TextEncoder().encode('GIF89a'), 1, 0, 1, 0, 0, 0, 0, ...new Uint8Array(32)]));
    await putObject(bucket, 'bad/broken.pdf', (await makePdf(['cut short'])).subarray(0, 300));
    await putObject(bucket, 'bad/empty.txt', '');
    await putObject(bucket, 'good/after-poison.txt', 'Lighthouses guide ships along dangerous coasts with rotating lamps.');
    const poison: [string, string][] = [
      ['{"not json', 'malformed_message'],
      ['{"hello":"world"}', 'malformed_message'],
      [JSON.stringify({ bucket, key: 'bad/does-not-exist.txt' }), 'missing_object'],
      [JSON.stringify({ bucket, key: 'bad/picture.gif' }), 'unsupported_type'],
      [JSON.stringify({ bucket, key: 'bad/broken.pdf' }), 'corrupt'],
      [JSON.stringify({ bucket, key: 'bad/empty.txt' }), 'no_text'],
    ];
    for (const [body] of poison) await sendBody(queue.queueUrl, body);
    await sendBody(queue.queueUrl, JSON.stringify({ bucket, key: 'good/after-poison.txt' }));
    await drain();

    const letters = await takeDeadLetters(queue.deadLetterUrl);
    assert.deepEqual(
      letters.map((l) => [l.body, l.reason]).sort(),
      poison.sort(),
      'each poison message is in the DLQ, with its original body and reason',
    );
    for (const letter of letters) assert.ok(letter.error.length > 0, `no error text for ${letter.body}`);
    assert.ok((await chunksByFile(index)).has(`s3://${bucket}/good/after-poison.txt`));
  });

  test('a dead-lettered file says which file it was: log line, DLQ attributes, its record and reindex status', async () => {
    // A GIF: a format the worker does not read (PNG and the other images it reads by OCR).
    const key = 'dead/scan picture.gif';
    await putObject(bucket, key, new Uint8Array([...new TextEncoder().encode('GIF89a'), 1, 0, 1, 0, 0, 0, 0, ...new Uint8Array(32)]));
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, key));
    const output = await drain();

    const line = output.split('\n').find((l) => l.includes('"outcome":"dead-lettered"'));
    assert.ok(line !== undefined, output);
    const logged = JSON.parse(line) as Record<string, unknown>;
    assert.equal(logged.bucket, bucket, line);
    assert.equal(logged.key, key, line);
    assert.equal(logged.reason, 'unsupported_type', line);

    const letters = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.deadLetterUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    // Received here, so hidden: deleted here too, or it comes back into a later test's DLQ check.
    for (const letter of letters.Messages ?? []) await sqs.send(new DeleteMessageCommand({ QueueUrl: queue.deadLetterUrl, ReceiptHandle: letter.ReceiptHandle }));
    assert.equal(letters.Messages?.length, 1);
    const attributes = letters.Messages[0]?.MessageAttributes ?? {};
    assert.equal(attributes['keda-indexer.bucket']?.StringValue, bucket);
    assert.equal(attributes['keda-indexer.key']?.StringValue, key);

    // The record says dead_lettered with the reason, not "claimed" for ever.
    const resolved = await resolveIndex(es, index);
    assert.ok(resolved.kind !== 'missing');
    const record = await es.get<FileRecord>({ index: recordsIndexOf(resolved.index), id: sourceIdOf(`s3://${bucket}/${key}`) });
    assert.equal(record._source?.state, 'dead_lettered');
    assert.equal(record._source.reason, 'unsupported_type');

    const status = spawnSync(process.execPath, [CLI, 'reindex', 'status'], { env: { ...process.env, ELASTICSEARCH_INDEX: index }, encoding: 'utf8' });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /files +dead-lettered\n/);
    const dead = await es.count({ index: recordsIndexOf(resolved.index), query: { term: { state: 'dead_lettered' } } });
    assert.ok(dead.count >= 1);
    assert.match(status.stdout, new RegExp(`\\* 1 +${resolved.index} .* ${dead.count}\n`));
  });

  test('Elasticsearch unreachable mid-run: no message is deleted unindexed, and all land after it returns', async () => {
    // A TCP relay between worker and Elasticsearch that can be cut: a real network failure.
    const esUrl = new URL(settings.elasticsearch.url);
    const relay = await startRelay(esUrl.hostname, Number(esUrl.port));
    const worker = startCli(['worker'], workerEnv({ ELASTICSEARCH_URL: `http://127.0.0.1:${relay.port}` }));
    try {
      await waitFor('worker ready', () => Promise.resolve(worker.output().includes('worker ready')));
      relay.cut();
      const keys = ['outage/one.txt', 'outage/two.txt', 'outage/three.txt'];
      for (const key of keys) {
        await putObject(bucket, key, `${key}: written while the search cluster was unreachable.`);
        await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
      }
      await waitFor('retries', () => Promise.resolve((worker.output().match(/message released for retry/g) ?? []).length >= 3));
      const depth = await queueDepth(queue.queueUrl);
      assert.equal(depth.visible + depth.inFlight + depth.delayed, 3, 'all three messages are still on the queue');
      relay.restore();
      await waitFor('files indexed after recovery', async () => {
        const byFile = await chunksByFile(index);
        return keys.every((key) => byFile.has(`s3://${bucket}/${key}`));
      });
      await waitFor('queue empty', async () => {
        const d = await queueDepth(queue.queueUrl);
        return d.visible + d.inFlight + d.delayed === 0;
      });
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
      relay.close();
    }
  });

  test('/healthz, /readyz and /metrics answer, and metrics count what happened', async () => {
    const port = await freePort();
    const worker = startCli(['worker'], workerEnv({ HTTP_PORT: String(port) }));
    const get = async (route: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${route}`);
      return { status: response.status, text: await response.text() };
    };
    try {
      await waitFor('health server', async () => (await get('/healthz').catch(() => ({ status: 0 }))).status === 200);
      await waitFor('ready', async () => (await get('/readyz')).status === 200);
      await putObject(bucket, 'metrics/one.txt', 'Glaciers carve valleys as they creep downhill under their own weight.');
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key: 'metrics/one.txt' }));
      await sendBody(queue.queueUrl, 'not json at all');
      // The file is counted before its message is deleted and leaves the in-flight gauge: wait for all three.
      await waitFor('metrics to count the file, the dead letter and nothing in flight', async () => {
        const text = (await get('/metrics')).text;
        return (
          /^keda_indexer_files_indexed_total 1$/m.test(text) &&
          /^keda_indexer_dead_lettered_total\{reason="malformed_message"\} 1$/m.test(text) &&
          /^keda_indexer_in_flight_messages 0$/m.test(text)
        );
      });
      const metrics = (await get('/metrics')).text;
      assert.match(metrics, /^keda_indexer_messages_received_total 2$/m);
      assert.match(metrics, /^keda_indexer_chunks_embedded_total 1$/m);
      assert.match(metrics, /^keda_indexer_stage_duration_seconds_count\{stage="embed"\} 1$/m);
      assert.match(metrics, /^keda_indexer_in_flight_messages 0$/m);
      // Every stage the file went through was charged some CPU (observe/stage-cpu.ts).
      for (const stage of ['fetch', 'convert', 'split', 'embed', 'request', 'write']) {
        const cpu = new RegExp(`^keda_indexer_stage_cpu_seconds_total\\{stage="${stage}"\\} (\\S+)$`, 'm').exec(metrics);
        assert.ok(cpu && Number(cpu[1]) > 0, `no CPU counted for stage ${stage}`);
      }
      assert.match(metrics, /^keda_indexer_process_resident_memory_bytes \d+/m);
      assert.equal((await get('/nope')).status, 404);
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0);
      await takeDeadLetters(queue.deadLetterUrl);
    } finally {
      if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    }
  });

  test('a queue that does not exist stops the worker at start with the fix, not a retry loop', { timeout: 180_000 }, async () => {
    const missing = queue.queueUrl.replace(/[^/]+$/, uniqueName('no-such-queue'));
    const worker = startCli(['worker'], workerEnv({ SQS_QUEUE_URL: missing }));
    const code = await worker.exited;
    assert.equal(code, 1, worker.output());
    assert.match(worker.output(), new RegExp(`queue ${missing} does not exist \\(QueueDoesNotExist\\)\\. Fix: check SQS_QUEUE_URL`));
    assert.doesNotMatch(worker.output(), /receive failed|"stack"/);
  });

  test('a queue deleted under a running worker: one error line with the fix, /readyz 503, and back when it returns', { timeout: 300_000 }, async () => {
    const name = uniqueName('worker-vanishing');
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const queueUrl = created.QueueUrl ?? '';
    const port = await freePort();
    const worker = startCli(['worker'], workerEnv({ SQS_QUEUE_URL: queueUrl, SQS_DEAD_LETTER_QUEUE_URL: queue.deadLetterUrl, HTTP_PORT: String(port) }));
    const get = async (route: string) => {
      const response = await fetch(`http://127.0.0.1:${port}${route}`).catch(() => undefined);
      return { status: response?.status ?? 0, text: (await response?.text()) ?? '' };
    };
    const failures = async () => Number(/^keda_indexer_receive_failures_total\{reason="queue_missing"\} (\d+)$/m.exec((await get('/metrics')).text)?.[1] ?? 0);
    try {
      await waitFor('ready', async () => (await get('/readyz')).status === 200, 120_000);
      const before = worker.output().length;
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      await waitFor('/readyz to turn 503', async () => (await get('/readyz')).status === 503);
      await waitFor('three failed receives', async () => (await failures()) >= 3);
      const since = worker.output().slice(before);
      const lines = since.split('\n').filter((line) => line.includes('"problem":"queue_missing"'));
      assert.equal(lines.length, 1, `one error line, not one per receive:\n${since}`);
      assert.match(lines[0] ?? '', /"level":50/);
      assert.match(lines[0] ?? '', /does not exist \(QueueDoesNotExist\)\. Fix: /);
      assert.doesNotMatch(since, /"stack"/, 'no stack traces');

      await sqs.send(new CreateQueueCommand({ QueueName: name }));
      await waitFor('/readyz back to 200', async () => (await get('/readyz')).status === 200, 120_000);
      assert.match(worker.output(), /queue usable again/);
    } finally {
      worker.child.kill('SIGTERM');
      assert.equal(await worker.exited, 0, worker.output());
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    }
  });

  test('SIGTERM mid-batch: exit 0 within the deadline, nothing lost', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `sigterm/file-${i}.txt`);
    for (const key of keys) {
      await putObject(bucket, key, `${key}. `.repeat(2500));
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
    }
    const worker = startCli(['worker'], workerEnv({ WORKER_DRAIN_DEADLINE_SECONDS: '5', WORKER_CONCURRENCY: '2' }));
    await waitFor('a file in flight', async () => (await queueDepth(queue.queueUrl)).inFlight > 0);
    const signalled = Date.now();
    worker.child.kill('SIGTERM');
    assert.equal(await worker.exited, 0, worker.output());
    // Bounded by the deadline plus the chart's default grace (15 s): what Kubernetes enforces.
    assert.ok(Date.now() - signalled < (5 + 15) * 1000, `exited ${Date.now() - signalled} ms after SIGTERM; deadline 5 s`);
    // After the stop, only work already in flight was finished: nothing new was received.
    const stderr = worker.stderr();
    const stop = stderr.indexOf('"msg":"stopping');
    const inFlightAtStop = Number(/"inFlight":(\d+)[^\n]*stopping/.exec(stderr)?.[1]);
    assert.ok(stop >= 0 && Number.isInteger(inFlightAtStop), stderr);
    assert.ok((stderr.slice(stop).match(/"outcome":"indexed"/g) ?? []).length <= inFlightAtStop, stderr);
    // Unfinished messages were handed back before exit, not left invisible until their lease runs out.
    assert.equal((await queueDepth(queue.queueUrl)).inFlight, 0);
    await drain();
    const byFile = await chunksByFile(index);
    for (const key of keys) assert.ok(byFile.has(`s3://${bucket}/${key}`), `${key} lost`);
    assertNoDuplicates(byFile);
  });

  test('SIGKILL mid-batch: after the visibility timeout the file is indexed once', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `sigkill/file-${i}.txt`);
    for (const key of keys) {
      await putObject(bucket, key, `${key} holds text. `.repeat(2000));
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
    }
    const worker = startCli(['worker'], workerEnv({ SQS_VISIBILITY_TIMEOUT_SECONDS: '4' }));
    await waitFor('a file in flight', async () => (await queueDepth(queue.queueUrl)).inFlight > 0);
    worker.child.kill('SIGKILL');
    assert.equal(await worker.exited, 'SIGKILL');
    await waitFor('leases to expire', async () => (await queueDepth(queue.queueUrl)).inFlight === 0, 20_000);
    await drain();
    const byFile = await chunksByFile(index);
    for (const key of keys) assert.ok(byFile.has(`s3://${bucket}/${key}`), `${key} lost`);
    assertNoDuplicates(byFile);
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
  });

  // A long file goes through embed and write in slices (EMBEDDING_SLICE_CHUNKS); these use slices
  // of 16 so a PDF of a few hundred short pages, one chunk each, crosses many of them.
  describe('a large file in slices', () => {
    const sliced = (extra: Record<string, string> = {}) => drain({ EMBEDDING_SLICE_CHUNKS: '16', ...extra });
    /** One short page per entry, each naming its version and number: one chunk per page. */
    const pagesOf = (version: string, count: number) =>
      Array.from({ length: count }, (_, i) => `Version ${version}, page ${i + 1}. Orchards along the river bloom in spring and the harvest is stored in the old barn.`);
    const uri = (key: string) => `s3://${bucket}/${key}`;

    /** The file's chunks are exactly pages 1..count of `version`, each once, in order. */
    async function assertWhole(target: string, key: string, version: string, count: number): Promise<void> {
      const chunks = (await chunksByFile(target)).get(uri(key)) ?? [];
      assert.equal(chunks.length, count, `${key}: ${chunks.length} chunks, expected ${count}`);
      assertNoDuplicates(new Map([[key, chunks]]));
      chunks.forEach((chunk, i) => {
        assert.equal(chunk.page_number, i + 1);
        assert.ok(chunk.content.startsWith(`Version ${version}, page ${i + 1}.`), `${key} chunk ${i}: ${chunk.content.slice(0, 40)}`);
      });
    }

    test('is indexed whole, each chunk once; a changed, shorter version leaves only its own chunks', async () => {
      const key = 'large/handbook.pdf';
      await putObject(bucket, key, await makePdf(pagesOf('one', 150)));
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
      await sliced();
      await assertWhole(index, key, 'one', 150);
      await putObject(bucket, key, await makePdf(pagesOf('two', 110)));
      await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, key));
      await sliced();
      await assertWhole(index, key, 'two', 110);
      assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
    });

    test('a slice Elasticsearch rejects halfway: dead-lettered with the reason, and neither old nor new chunks stay', async () => {
      // An index whose page_number holds a byte: Elasticsearch itself rejects the chunks of
      // page 128 and on, which the new version has in its eighth slice.
      const strict = uniqueName('worker-strict');
      const mapping = indexMapping(embedder.dimensions, settings.elasticsearch);
      await es.indices.create({ index: strict, mappings: { ...mapping, properties: { ...mapping.properties, page_number: { type: 'byte' } } } });
      try {
        const key = 'large/rejected.pdf';
        await putObject(bucket, key, await makePdf(pagesOf('one', 100)));
        await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
        await sliced({ ELASTICSEARCH_INDEX: strict });
        await assertWhole(strict, key, 'one', 100);

        await putObject(bucket, key, await makePdf(pagesOf('two', 150)));
        await putObject(bucket, 'large/beside.txt', 'Kites rise when the wind pushes against their tilted surface.');
        await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
        await sendBody(queue.queueUrl, JSON.stringify({ bucket, key: 'large/beside.txt' }));
        const output = await sliced({ ELASTICSEARCH_INDEX: strict });
        const letters = await takeDeadLetters(queue.deadLetterUrl);
        assert.deepEqual(letters.map((l) => [l.body, l.reason]), [[JSON.stringify({ bucket, key }), 'index_rejected']], output);
        assert.match(letters[0]?.error ?? '', /page_number/);
        const byFile = await chunksByFile(strict);
        assert.equal(byFile.has(uri(key)), false, `no mix of old and new chunks: ${byFile.get(uri(key))?.length ?? 0} left`);
        assert.equal(byFile.get(uri('large/beside.txt'))?.length, 1, 'the other file is indexed');
        assert.deepEqual(await queueDepth(queue.queueUrl), { visible: 0, inFlight: 0, delayed: 0 });
      } finally {
        await es.indices.delete({ index: [strict, recordsIndexOf(strict)], ignore_unavailable: true });
      }
    });

    test('the worker killed mid-file while re-indexing a changed version: the retry leaves only the new version', async () => {
      const key = 'large/killed.pdf';
      const sourceId = sourceIdOf(uri(key));
      await putObject(bucket, key, await makePdf(pagesOf('one', 400)));
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
      await drain();
      await assertWhole(index, key, 'one', 400);

      await putObject(bucket, key, await makePdf(pagesOf('two', 400)));
      await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
      // Slices of 8: fifty bulk requests, so the file is seen half written even on a fast machine.
      const worker = startCli(['worker'], workerEnv({ EMBEDDING_SLICE_CHUNKS: '8', SQS_VISIBILITY_TIMEOUT_SECONDS: '4' }));
      let seen = 0;
      try {
        const deadline = Date.now() + 120_000;
        while (seen === 0 && Date.now() < deadline) {
          await es.indices.refresh({ index });
          const found = await es.count({ index, query: { bool: { filter: [{ term: { source_id: sourceId } }, { match_phrase: { content: 'Version two' } }] } } });
          seen = found.count;
          if (seen === 0) await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        worker.child.kill('SIGKILL');
      }
      assert.equal(await worker.exited, 'SIGKILL');
      assert.ok(seen > 0 && seen < 400, `killed after ${seen} of 400 chunks of the new version: the file was not cut halfway`);
      await waitFor('the lease to expire', async () => (await queueDepth(queue.queueUrl)).inFlight === 0, 20_000);
      await sliced();
      await assertWhole(index, key, 'two', 400);
      assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
    });
  });
});

interface Relay {
  readonly port: number;
  cut(): void;
  restore(): void;
  close(): void;
}

/** Forwards TCP to host:port; cut() drops every connection and refuses new ones until restore(). */
async function startRelay(host: string, port: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(port, host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return {
    port: address.port,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      open = true;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
