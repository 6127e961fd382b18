// A model change without downtime, as an operator runs it (docs/operations.md, "Change the
// embedding model"), against the real dev stack and both real models: the live pipeline writes
// all-MiniLM-L6-v2 vectors through the alias; `reindex create` makes the e5-small-v2 index; a
// second pipeline (its own queue, a worker with EMBEDDING_MODEL=e5 and ELASTICSEARCH_INDEX set to
// the new physical index) fills it; `verify` catches a missing file; `flip` moves the alias and
// the live worker stops; `--rollback` goes back; `delete` drops the old index. A search loop runs
// throughout and must never fail or come back empty. Also: the first change of an index made
// before aliases (`flip --replace-index`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { cosineSimilarity, createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';
import { QueryModels } from '../../app/src/commands/query-model.js';
import { searchIndex } from '../../app/src/store/elasticsearch/search.js';
import type { Settings } from '../../app/src/config/config.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { chunkIdOf, type ChunkDocument } from '../../app/src/store/document.js';
import { ElasticsearchSink } from '../../app/src/store/elasticsearch/chunks.js';
import { readIndexMeta, resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import { deleteIndexFamily } from '../support/indices.js';
import { e5Model } from '../support/models.js';
import { CLI, createBucket, createQueueWithDeadLetter, es, putObject, sendBody, settings, startCli, uniqueName, waitFor, type TestQueue } from '../support/stack.js';

const FILES: Record<string, string> = {
  'notes/volcanoes.txt': 'Volcanoes erupt when magma rises through the crust and dissolved gases expand as the pressure drops.',
  'notes/sourdough.txt': 'A sourdough starter of flour and water hosts wild yeast that leavens the bread baked in a hot oven.',
  'notes/tide-pools.txt': 'Sea anemones, hermit crabs and starfish live in rock pools left behind by the retreating tide.',
  'notes/chess.txt': 'In chess the Sicilian Defence answers 1.e4 with c5, and castling early keeps the king safe.',
  'notes/bees.txt': 'Worker bees collect nectar and turn it into honey inside the hive, fanning their wings to dry it.',
  'notes/glaciers.txt': 'Glaciers are rivers of ice that carve deep valleys as they creep down mountains over centuries.',
};
const QUERIES = ['how do volcanoes erupt', 'baking bread with wild yeast', 'animals in rock pools', 'chess opening for black', 'how bees make honey', 'ice carving valleys'];
const MINILM = 'all-minilm-l6-v2';
const E5 = 'e5-small-v2';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(env: Record<string, string>, ...args: string[]): Result {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: Result, what: string): string {
  assert.equal(result.status, 0, `${what} exited ${String(result.status)}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

async function enqueue(queue: TestQueue, bucket: string, keys: readonly string[]): Promise<void> {
  for (const key of keys) await sendBody(queue.queueUrl, JSON.stringify({ bucket, key }));
}

async function drainWorker(env: Record<string, string>): Promise<void> {
  const worker = startCli(['worker', '--drain'], { SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0', ...env });
  const code = await worker.exited;
  assert.equal(code, 0, `worker --drain exited ${String(code)}:\n${worker.output()}`);
}

/** One answer of the search loop. */
interface Answer {
  /** When the search began (before it resolved the alias): what it saw follows from this. */
  readonly startedAt: number;
  readonly at: number;
  readonly index: string;
  readonly model: string;
  readonly hits: number;
  readonly top?: { source_id: string; split_id: number };
  readonly query: string;
}

/**
 * Searches the alias over and over, as the app in front of it would, with the real search code:
 * resolve the alias, embed the query with the recorded model, search. Every error is kept.
 */
class SearchLoop {
  readonly answers: Answer[] = [];
  readonly errors: string[] = [];
  private running = true;
  private readonly done: Promise<void>;
  private readonly models: QueryModels;

  constructor(private readonly searchSettings: Settings) {
    this.models = new QueryModels(searchSettings, silentLogger());
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const query = QUERIES[i % QUERIES.length] ?? '';
      const startedAt = Date.now();
      try {
        const result = await searchIndex(es, this.searchSettings, this.models, query, { k: 3, hybrid: true });
        const top = result.hits[0];
        this.answers.push({
          startedAt,
          at: Date.now(),
          index: result.index,
          model: result.meta?.model.name ?? '(none)',
          hits: result.hits.length,
          query,
          ...(top === undefined ? {} : { top: { source_id: top.source_id, split_id: top.split_id } }),
        });
      } catch (error) {
        this.errors.push(`${query}: ${error instanceof Error ? error.message : String(error)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * Waits until `count` searches that began after `since` have answered, and returns them. By start,
   * not by answer: a search that resolved the alias before a flip can answer after it on a loaded
   * machine, and rightly from the old index.
   */
  async answersAfter(since: number, count: number): Promise<Answer[]> {
    const begunAfter = () => this.answers.filter((a) => a.startedAt > since);
    await waitFor(`${count} searches begun after ${new Date(since).toISOString()}`, () => Promise.resolve(begunAfter().length >= count), 120_000);
    return begunAfter();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
    await this.models.dispose();
  }
}

describe('reindex: change the model without downtime', () => {
  const bucket = uniqueName('reindex-docs');
  const alias = uniqueName('reindex');
  const v1 = `${alias}-v1-${MINILM}`;
  const v2 = `${alias}-v2-${E5}`;
  let live: TestQueue;
  let second: TestQueue;
  let e5 = '';
  let loop: SearchLoop | undefined;
  let e5Embedder: Embedder;
  let minilmEmbedder: Embedder;
  const env = (): Record<string, string> => ({ ELASTICSEARCH_INDEX: alias, S3_ALLOWED_BUCKETS: bucket });

  before(async () => {
    e5 = e5Model();
    live = await createQueueWithDeadLetter(uniqueName('reindex-live'));
    second = await createQueueWithDeadLetter(uniqueName('reindex-e5'));
    await createBucket(bucket);
    for (const [key, text] of Object.entries(FILES)) await putObject(bucket, key, text);
    e5Embedder = await createEmbedder({ model: e5, device: 'cpu', dtype: 'q8', passagePrefix: 'passage: ', queryPrefix: 'query: ', logger: silentLogger() });
    minilmEmbedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  });
  after(async () => {
    await loop?.stop();
    await e5Embedder.dispose();
    await minilmEmbedder.dispose();
    await deleteIndexFamily(es, alias);
  });

  test('the whole change, with search answering throughout', async () => {
    // The live pipeline: MiniLM through the alias, which its first worker creates.
    await enqueue(live, bucket, Object.keys(FILES));
    await drainWorker({ ...env(), SQS_QUEUE_URL: live.queueUrl });
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v1 });

    // The searchers are told of the next model before the flip (SEARCH_ALLOWED_MODELS): search never
    // loads a model only because an index's _meta names it.
    loop = new SearchLoop({ ...settings, embedding: { ...settings.embedding, searchAllowedModels: [e5] }, elasticsearch: { ...settings.elasticsearch, index: alias } });
    const beforeCreate = await loop.answersAfter(0, 3);
    assert.ok(beforeCreate.every((a) => a.index === v1 && a.model === MINILM));

    // 1. create the e5 index beside it: not behind the alias.
    const created = ok(cli(env(), 'reindex', 'create', '--model', e5), 'reindex create');
    assert.match(created, new RegExp(`created ${v2} \\(version 2, model ${E5}, 384 dims, passage prefix "passage: ", query prefix "query: "\\)`));
    assert.match(created, new RegExp(`ELASTICSEARCH_INDEX=${v2}`));
    assert.match(created, /EMBEDDING_DTYPE=q8/);
    assert.match(created, /keda-indexer backfill s3:\/\//);
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v1 }, 'the alias has not moved');
    assert.equal((await readIndexMeta(es, v2))?.model.name, E5);

    const status = ok(cli(env(), 'reindex', 'status'), 'reindex status');
    assert.match(status, new RegExp(`alias ${alias} → ${v1}`));
    assert.match(status, new RegExp(`\\* 1 +${v1} +${MINILM} +384 +6 +6`));
    assert.match(status, new RegExp(`  2 +${v2} +${E5} +384 +0 +0`));

    // 2. the second pipeline fills it: all files but one, so that verify has something to catch.
    const keys = Object.keys(FILES);
    const held = 'notes/chess.txt';
    await enqueue(second, bucket, keys.filter((key) => key !== held));
    const secondEnv = { ELASTICSEARCH_INDEX: v2, EMBEDDING_MODEL: e5, SQS_QUEUE_URL: second.queueUrl, S3_ALLOWED_BUCKETS: bucket };
    await drainWorker(secondEnv);

    // 3. verify catches the missing file, and flip refuses for the same reason.
    const missing = cli(env(), 'reindex', 'verify');
    assert.equal(missing.status, 1, missing.stdout);
    assert.match(missing.stdout, new RegExp(`${v1} → ${v2}: 6 file\\(s\\) in the old index, 1 missing from the new one`));
    assert.match(missing.stdout, new RegExp(`missing  s3://${bucket}/${held}\n`));
    assert.equal(missing.stdout.match(/^missing /gm)?.length, 1);
    const refused = cli(env(), 'reindex', 'flip');
    assert.equal(refused.status, 1, refused.stdout);
    assert.match(refused.stdout, /Not flipped/);
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v1 });

    await enqueue(second, bucket, [held]);
    await drainWorker(secondEnv);
    assert.match(ok(cli(env(), 'reindex', 'verify'), 'reindex verify'), /0 missing from the new one, 0 with odd chunk counts/);

    // 4. flip, with a live worker running on the old index: it stops within its check interval.
    const liveWorker = startCli(['worker'], { ...env(), SQS_QUEUE_URL: live.queueUrl, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0' });
    await waitFor('the live worker to be ready', () => Promise.resolve(liveWorker.output().includes('worker ready')), 120_000);
    const flipped = ok(cli(env(), 'reindex', 'flip'), 'reindex flip');
    const flippedAt = Date.now();
    assert.match(flipped, new RegExp(`${alias} → ${v2} \\(model ${E5}\\); was ${v1}, kept`));
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v2 });
    assert.ok(await es.indices.exists({ index: v1 }), 'the old index is kept');
    // Bounds a hang only: the worker checks the alias every ALIAS_CHECK_MS (10 s).
    let liveExit: number | string | undefined;
    void liveWorker.exited.then((code) => (liveExit = code));
    await waitFor('the live worker to stop after the flip', () => Promise.resolve(liveExit !== undefined), 120_000).catch((error: unknown) => {
      liveWorker.child.kill('SIGTERM');
      throw new Error(`the live worker did not stop after the flip:\n${liveWorker.output()}`, { cause: error });
    });
    assert.equal(liveExit, 0, `the live worker did not stop after the flip:\n${liveWorker.output()}`);
    assert.match(liveWorker.output(), /alias moved away from this index: stopping/);

    const afterFlip = await loop.answersAfter(flippedAt, 6);
    assert.ok(afterFlip.every((a) => a.index === v2 && a.model === E5), JSON.stringify(afterFlip.slice(0, 3)));

    // The query was embedded with e5: its vector is close to the top hit's stored e5 vector,
    // and a MiniLM vector of the same query is not (two unrelated vector spaces).
    const sample = afterFlip.find((a) => a.top !== undefined);
    assert.ok(sample?.top);
    // Elasticsearch 9 leaves vectors out of _source unless asked for them.
    const stored = await es.search<ChunkDocument>({
      index: v2,
      query: { ids: { values: [chunkIdOf(sample.top.source_id, sample.top.split_id)] } },
      _source: { exclude_vectors: false },
    });
    const vector = Float32Array.from(stored.hits.hits[0]?._source?.embedding ?? []);
    assert.equal(vector.length, 384);
    const [byE5] = await e5Embedder.embed([sample.query], 'query');
    const [byMinilm] = await minilmEmbedder.embed([sample.query], 'query');
    assert.ok(byE5 && byMinilm);
    const e5Cosine = cosineSimilarity(byE5, vector);
    const minilmCosine = cosineSimilarity(byMinilm, vector);
    assert.ok(e5Cosine > 0.75 && e5Cosine - minilmCosine > 0.4, `cosine with e5 ${e5Cosine}, with MiniLM ${minilmCosine}`);
    console.log(`# "${sample.query}" vs its top hit's stored vector: cosine ${e5Cosine.toFixed(3)} embedded with e5, ${minilmCosine.toFixed(3)} with MiniLM`);

    // A restarted worker of the old model refuses the new index with the fix named.
    const stale = cli({ ...env(), SQS_QUEUE_URL: live.queueUrl, HTTP_PORT: '0' }, 'worker', '--drain');
    assert.equal(stale.status, 1);
    assert.match(stale.stderr, new RegExp(`index ${v2} \\(behind alias ${alias}\\) holds vectors of model ${E5}, not ${MINILM}`));

    // 5. rollback, and forward again.
    const rolledBack = ok(cli(env(), 'reindex', 'flip', '--rollback'), 'reindex flip --rollback');
    const rolledBackAt = Date.now();
    assert.match(rolledBack, new RegExp(`${alias} → ${v1}`));
    const afterRollback = await loop.answersAfter(rolledBackAt, 6);
    assert.ok(afterRollback.every((a) => a.index === v1 && a.model === MINILM), JSON.stringify(afterRollback.slice(0, 3)));
    ok(cli(env(), 'reindex', 'flip'), 'reindex flip (again)');
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: v2 });

    // 6. delete: never the live index; the old one by default.
    const refusedDelete = cli(env(), 'reindex', 'delete', '--index', v2);
    assert.equal(refusedDelete.status, 1);
    assert.match(refusedDelete.stderr, new RegExp(`${alias} points at ${v2}`));
    assert.match(ok(cli(env(), 'reindex', 'delete'), 'reindex delete'), new RegExp(`deleted ${v1} and ${v1}-files`));
    assert.equal(await es.indices.exists({ index: v1 }), false);

    const lastAnswers = await loop.answersAfter(Date.now(), 3);
    assert.ok(lastAnswers.every((a) => a.index === v2));
    await loop.stop();
    const answers = loop.answers;
    const loopErrors = loop.errors;
    loop = undefined;
    // Search answered all the way through: never an error, never an empty result.
    assert.deepEqual(loopErrors, [], 'a search failed');
    assert.ok(answers.length > 0);
    assert.deepEqual(answers.filter((a) => a.hits === 0), [], 'a search came back empty');
    console.log(`# search loop: ${answers.length} searches during the change, ${new Set(answers.map((a) => a.index)).size} indices served`);
  });

  test('first change of an index made before aliases: flip --replace-index puts the alias in its place', async () => {
    const name = uniqueName('reindex-legacy');
    const queue = await createQueueWithDeadLetter(uniqueName('reindex-legacy-q'));
    try {
      // An index as earlier versions made it: concrete, no _meta; its worker keeps working.
      await new ElasticsearchSink(es, { ...settings.elasticsearch, index: name }).ensureIndex(384);
      await enqueue(queue, bucket, Object.keys(FILES));
      await drainWorker({ ELASTICSEARCH_INDEX: name, SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket });
      assert.deepEqual(await resolveIndex(es, name), { kind: 'concrete', index: name });

      const created = ok(cli({ ELASTICSEARCH_INDEX: name }, 'reindex', 'create', '--model', e5, '--dims', '384'), 'reindex create');
      const next = `${name}-v1-${E5}`;
      assert.match(created, new RegExp(`created ${next} `));
      await enqueue(queue, bucket, Object.keys(FILES));
      await drainWorker({ ELASTICSEARCH_INDEX: next, EMBEDDING_MODEL: e5, SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket });

      const refused = cli({ ELASTICSEARCH_INDEX: name }, 'reindex', 'flip');
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /is a concrete index, not an alias.*--replace-index/s);
      assert.deepEqual(await resolveIndex(es, name), { kind: 'concrete', index: name });

      const flipped = ok(cli({ ELASTICSEARCH_INDEX: name }, 'reindex', 'flip', '--replace-index'), 'reindex flip --replace-index');
      assert.match(flipped, new RegExp(`${name} \\(concrete index\\) deleted and replaced by alias ${name} → ${next}`));
      assert.deepEqual(await resolveIndex(es, name), { kind: 'alias', alias: name, index: next });
      assert.equal(await es.indices.exists({ index: `${name}-files` }), false, 'the old records went with the old index');

      // search loads the new model only from where it is configured: the allow-list names it.
      const search = ok(cli({ ELASTICSEARCH_INDEX: name, SEARCH_ALLOWED_MODELS: e5 }, 'search', 'how bees make honey', '--k', '1', '--json'), 'search');
      assert.equal((JSON.parse(search) as { file_path: string }[])[0]?.file_path, `s3://${bucket}/notes/bees.txt`);
    } finally {
      await deleteIndexFamily(es, name);
    }
  });
});
