// ELASTICSEARCH_INDEX as an alias, against the real dev stack and both real models: a fresh name
// becomes `<alias>-v1-<model>` behind the alias with the model in `_meta`; writers of another model
// are refused; an index made before aliases keeps working as it is; search embeds with the model
// the index records, and refuses clearly when that model is not available here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QueryModels } from '../../app/src/commands/query-model.js';
import { searchIndex } from '../../app/src/store/elasticsearch/search.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { ElasticsearchSink } from '../../app/src/store/elasticsearch/chunks.js';
import { readIndexMeta, resolveIndex } from '../../app/src/store/elasticsearch/index-alias.js';
import { recordsIndexOf } from '../../app/src/store/elasticsearch/file-records.js';
import { deleteIndexFamily } from '../support/indices.js';
import { e5Model, minilmModel } from '../support/models.js';
import { CLI, chunksByFile, es, settings, uniqueName } from '../support/stack.js';

const work = mkdtempSync(path.join(tmpdir(), 'ki-alias-'));
const docs = path.join(work, 'docs');
const names: string[] = [];
function indexName(what: string): string {
  const name = uniqueName(`alias-${what}`);
  names.push(name);
  return name;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

function cli(env: Record<string, string>, ...args: string[]): Result {
  const result = spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', cwd: work, timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let e5 = '';

describe('ELASTICSEARCH_INDEX as an alias', () => {
  before(() => {
    e5 = e5Model();
    spawnSync('mkdir', ['-p', docs]);
    writeFileSync(path.join(docs, 'lighthouses.txt'), 'Lighthouses warn ships of rocks with a rotating beam of light visible for miles at night.');
    writeFileSync(path.join(docs, 'glaciers.txt'), 'Glaciers are rivers of ice that carve valleys as they creep down mountains over centuries.');
  });
  after(async () => {
    await deleteIndexFamily(es, names);
    rmSync(work, { recursive: true, force: true });
  });

  test('bootstrap on a fresh name creates <alias>-v1-<model> behind the alias, with the model in _meta; again is a no-op', async () => {
    const alias = indexName('fresh');
    const first = cli({ ELASTICSEARCH_INDEX: alias }, 'bootstrap', '--skip-index', '--queue-name', uniqueName('alias-q'));
    assert.equal(first.status, 0, first.stderr);
    const result = cli({ ELASTICSEARCH_INDEX: alias }, 'bootstrap', '--queue-name', uniqueName('alias-q'));
    assert.equal(result.status, 0, result.stderr);
    const physical = `${alias}-v1-all-minilm-l6-v2`;
    assert.match(result.stdout, new RegExp(`index +${alias} → ${physical} \\(created, 384 dims\\)`));
    assert.deepEqual(await resolveIndex(es, alias), { kind: 'alias', alias, index: physical });
    assert.ok(await es.indices.exists({ index: recordsIndexOf(physical) }), 'the records follow the physical index');
    const meta = await readIndexMeta(es, physical);
    assert.equal(meta?.alias, alias);
    assert.equal(meta.version, 1);
    assert.deepEqual({ ...meta.model, source: undefined }, {
      name: 'all-minilm-l6-v2',
      source: undefined,
      dims: 384,
      dtype: 'fp32',
      passage_prefix: '',
      query_prefix: '',
      pooling: 'mean',
      normalize: true,
    });
    assert.equal(meta.model.source, minilmModel());

    const again = cli({ ELASTICSEARCH_INDEX: alias }, 'bootstrap', '--queue-name', uniqueName('alias-q'));
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${alias} → ${physical} \\(exists, 384 dims\\)`));
    const versions = await es.indices.get({ index: `${alias}-v*` });
    assert.deepEqual(Object.keys(versions).sort(), [physical, recordsIndexOf(physical)].sort());
  });

  test('index and search go through the alias; a writer of another model is refused with the fix named', async () => {
    const alias = indexName('refuse');
    const indexed = cli({ ELASTICSEARCH_INDEX: alias }, 'index', docs);
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(indexed.stdout, new RegExp(`into Elasticsearch index ${alias}-v1-all-minilm-l6-v2`));
    const byFile = await chunksByFile(`${alias}-v1-all-minilm-l6-v2`);
    assert.equal(byFile.size, 2);

    const search = cli({ ELASTICSEARCH_INDEX: alias }, 'search', 'ice carving valleys', '--k', '1', '--json');
    assert.equal(search.status, 0, search.stderr);
    assert.equal((JSON.parse(search.stdout) as { file_path: string }[])[0]?.file_path, path.join(docs, 'glaciers.txt'));

    const refused = cli({ ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: e5 }, 'index', docs);
    assert.equal(refused.status, 1, refused.stdout);
    assert.match(refused.stderr, /holds vectors of model all-minilm-l6-v2, not e5-small-v2/);
    assert.match(refused.stderr, /EMBEDDING_MODEL/);
    assert.match(refused.stderr, /reindex create/);
    assert.equal((await chunksByFile(`${alias}-v1-all-minilm-l6-v2`)).size, 2, 'nothing written by the refused writer');
  });

  test('search embeds the query with the model the index records, loaded from SEARCH_ALLOWED_MODELS', async () => {
    // An e5 index, searched by a CLI configured with MiniLM and e5 on its allow-list.
    const alias = indexName('e5');
    const indexed = cli({ ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: e5 }, 'index', docs);
    assert.equal(indexed.status, 0, indexed.stderr);
    const physical = `${alias}-v1-e5-small-v2`;
    const meta = await readIndexMeta(es, physical);
    assert.equal(meta?.model.name, 'e5-small-v2');
    assert.equal(meta.model.dtype, 'q8', 'the folder holds only q8 weights (its keda-indexer.json)');
    assert.equal(meta.model.passage_prefix, 'passage: ');
    assert.equal(meta.model.query_prefix, 'query: ');

    // Not on the allow-list: refused, though e5's folder lies beside MiniLM's and _meta names it.
    const unlisted = cli({ ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: minilmModel() }, 'search', 'ships and rocks at night', '--k', '1', '--json', '--knn-only');
    assert.equal(unlisted.status, 1, unlisted.stdout);
    assert.match(unlisted.stderr, /neither EMBEDDING_MODEL .* nor in SEARCH_ALLOWED_MODELS \(empty\)/);

    const search = cli({ ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: minilmModel(), SEARCH_ALLOWED_MODELS: e5 }, 'search', 'ships and rocks at night', '--k', '1', '--json', '--knn-only');
    assert.equal(search.status, 0, search.stderr);
    const hit = (JSON.parse(search.stdout) as { file_path: string; score: number }[])[0];
    assert.equal(hit?.file_path, path.join(docs, 'lighthouses.txt'));
    // kNN score of cosine similarity is (1 + cos) / 2: an e5 query against e5 passages scores
    // high (e5's cosines sit around 0.8–0.9); a MiniLM query against e5 vectors would be near 0.5.
    assert.ok(hit.score > 0.85, `score ${hit.score}`);
  });

  test("search never loads the location an index's _meta names: refused with the setting named", async () => {
    const alias = indexName('missing-model');
    const physical = `${alias}-v1-e5-small-v2`;
    // An index whose _meta names a folder that exists here (anyone who can write a mapping can
    // write this): search must not open it.
    await es.indices.create({
      index: physical,
      mappings: {
        _meta: {
          managed_by: 'keda-indexer',
          alias,
          version: 1,
          created_at: new Date().toISOString(),
          model: { name: 'e5-small-v2', source: e5, dims: 384, dtype: 'q8', passage_prefix: 'passage: ', query_prefix: 'query: ', pooling: 'mean', normalize: true },
        },
        properties: { embedding: { type: 'dense_vector', dims: 384 }, content: { type: 'text' } },
      },
    });
    await es.indices.updateAliases({ actions: [{ add: { index: physical, alias } }] });
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'ki-alias-models-'));
    const lonely = path.join(elsewhere, 'all-MiniLM-L6-v2');
    spawnSync('cp', ['-r', minilmModel(), lonely]);
    try {
      const refused = cli({ ELASTICSEARCH_INDEX: alias, EMBEDDING_MODEL: lonely }, 'search', 'ships');
      assert.equal(refused.status, 1, refused.stdout);
      assert.match(refused.stderr, new RegExp(`index ${physical} holds vectors of model e5-small-v2`));
      assert.match(refused.stderr, /neither EMBEDDING_MODEL .* nor in SEARCH_ALLOWED_MODELS \(empty\)/);
      assert.match(refused.stderr, /Fix: add that model's Hugging Face id or local folder \(scripts\/fetch-model --model e5-small-v2\) to SEARCH_ALLOWED_MODELS/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('a search whose index is deleted after it resolved the alias resolves it again and answers', async () => {
    // The race of `reindex delete` right after a flip: search resolved the alias to v1, then v1 is
    // gone before its query arrives. Forced here by a client whose first search moves the alias to
    // v2 and deletes v1 just before the request goes out.
    const alias = indexName('moved');
    const indexed = cli({ ELASTICSEARCH_INDEX: alias }, 'index', docs);
    assert.equal(indexed.status, 0, indexed.stderr);
    const v1 = `${alias}-v1-all-minilm-l6-v2`;
    const v2 = `${alias}-v2-all-minilm-l6-v2`;
    const mapping = await es.indices.getMapping({ index: v1 });
    await es.indices.create({ index: v2, mappings: { ...mapping[v1]?.mappings, _meta: { ...mapping[v1]?.mappings._meta, version: 2 } } });
    const filled = cli({ ELASTICSEARCH_INDEX: v2 }, 'index', docs);
    assert.equal(filled.status, 0, filled.stderr);

    let moved = false;
    const racing = new Proxy(es, {
      get(target, property, receiver) {
        if (property !== 'search' || moved) return Reflect.get(target, property, receiver) as unknown;
        return async (...args: Parameters<typeof es.search>) => {
          moved = true;
          await es.indices.updateAliases({ actions: [{ remove: { index: v1, alias } }, { add: { index: v2, alias } }] });
          await es.indices.delete({ index: v1 });
          return es.search(...args);
        };
      },
    });
    const models = new QueryModels(settings, silentLogger());
    try {
      const searchSettings = { ...settings, elasticsearch: { ...settings.elasticsearch, index: alias } };
      const result = await searchIndex(racing, searchSettings, models, 'ice carving valleys', { k: 1, hybrid: true });
      assert.ok(moved, 'the race was not forced');
      assert.equal(result.index, v2);
      assert.equal(result.hits[0]?.file_path, path.join(docs, 'glaciers.txt'));
    } finally {
      await models.dispose();
    }
  });

  test('an index made before aliases (a concrete index of that name) keeps working as it is', async () => {
    const name = indexName('legacy');
    // What earlier versions made: the concrete index and its records, no alias, no _meta.
    await new ElasticsearchSink(es, { ...settings.elasticsearch, index: name }).ensureIndex(384);
    const indexed = cli({ ELASTICSEARCH_INDEX: name }, 'index', docs);
    assert.equal(indexed.status, 0, indexed.stderr);
    assert.match(indexed.stdout, new RegExp(`into Elasticsearch index ${name}\\b`));
    assert.deepEqual(await resolveIndex(es, name), { kind: 'concrete', index: name });
    assert.equal((await chunksByFile(name)).size, 2);
    assert.deepEqual(Object.keys(await es.indices.get({ index: `${name}-v*`, allow_no_indices: true })), [], 'no versioned index made');
    const search = cli({ ELASTICSEARCH_INDEX: name }, 'search', 'beam of light', '--k', '1', '--json');
    assert.equal(search.status, 0, search.stderr);
    assert.equal((JSON.parse(search.stdout) as { file_path: string }[])[0]?.file_path, path.join(docs, 'lighthouses.txt'));
  });
});
