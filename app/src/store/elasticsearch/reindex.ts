// `keda-indexer reindex status|create|verify|flip|delete`: change the embedding model without
// downtime. ELASTICSEARCH_INDEX is an alias over `<alias>-v<N>-<model>`; `create` makes the next
// version beside the live one, a second pipeline fills it, `verify` compares it with the live one
// file by file, `flip` moves the alias in one atomic `_aliases` call and keeps the old index for
// `flip --rollback`, and `delete` removes an index the alias no longer points at.
// docs/operations.md, "Change the embedding model", is the operator's walk-through.
import type { Client, estypes } from '@elastic/elasticsearch';
import type { ModelRecord } from '../model-record.js';
import { StoreRefusal, type FlipOptions, type Out, type Reindexing, type VerifyOptions } from '../port.js';
import { classifyElasticsearchError, SinkStartupError, type ElasticsearchSettings } from './chunks.js';
import { recordsIndexOf, type FileRecord } from './file-records.js';
import {
  createPhysicalIndex,
  listVersions,
  physicalIndexName,
  resolveIndex,
  type IndexVersion,
  type ResolvedIndex,
} from './index-alias.js';

/** ELASTICSEARCH_INDEX's versions, one per model, and the moves of the alias between them. */
export class ElasticsearchReindexing implements Reindexing {
  constructor(
    private readonly client: Client,
    private readonly settings: ElasticsearchSettings,
  ) {}

  status(out: Out): Promise<boolean> {
    return this.step(() => reindexStatus(this.client, this.settings.index, out));
  }

  create(model: ModelRecord, modelSetting: string, out: Out): Promise<boolean> {
    return this.step(() => reindexCreate(this.client, this.settings, model, modelSetting, out));
  }

  verify(options: VerifyOptions, out: Out): Promise<boolean> {
    return this.step(() => reindexVerify(this.client, this.settings.index, options, out));
  }

  flip(options: FlipOptions, out: Out): Promise<boolean> {
    return this.step(() => reindexFlip(this.client, this.settings.index, options, out));
  }

  delete(options: { readonly index?: string }, out: Out): Promise<boolean> {
    return this.step(() => reindexDelete(this.client, this.settings.index, options, out));
  }

  /** An alias over several indices (resolveIndex's refusal) is the operator's to fix: said as is. */
  private async step(body: () => Promise<boolean>): Promise<boolean> {
    try {
      return await body();
    } catch (error) {
      if (error instanceof SinkStartupError) throw new StoreRefusal(error.message);
      throw error;
    }
  }
}

function describeLive(resolved: ResolvedIndex): string {
  if (resolved.kind === 'alias') return `alias ${resolved.alias} → ${resolved.index}`;
  if (resolved.kind === 'concrete') return `${resolved.index} is a concrete index, not an alias (made before aliases; \`reindex flip --replace-index\` turns it into one)`;
  return `${resolved.name} does not exist (bootstrap or the first worker creates ${resolved.name}-v1-<model> and the alias)`;
}

async function countDocs(client: Client, index: string, query?: estypes.QueryDslQueryContainer): Promise<number | undefined> {
  try {
    return (await client.count({ index, ...(query === undefined ? {} : { query }) })).count;
  } catch {
    return undefined;
  }
}

async function reindexStatus(client: Client, alias: string, out: Out): Promise<boolean> {
  const resolved = await resolveIndex(client, alias);
  out.write(`${describeLive(resolved)}\n`);
  const versions = await listVersions(client, alias);
  if (versions.length === 0) return true;
  out.write('\n  version  index                                        model                 dims  chunks   files  dead-lettered\n');
  let deadLettered = 0;
  for (const version of versions) {
    const chunks = await countDocs(client, version.index);
    const files = await countDocs(client, recordsIndexOf(version.index));
    const dead = await countDocs(client, recordsIndexOf(version.index), { term: { state: 'dead_lettered' } });
    deadLettered += dead ?? 0;
    const model = version.meta?.model;
    out.write(
      `${version.live ? '* ' : '  '}${String(version.version).padEnd(7)}  ${version.index.padEnd(44)} ${(model?.name ?? '(not recorded)').padEnd(21)} ` +
        `${String(model?.dims ?? '?').padStart(4)}  ${String(chunks ?? '?').padStart(6)}  ${String(files ?? '?').padStart(6)}  ${String(dead ?? '?').padStart(13)}\n`,
    );
  }
  out.write('\n* = behind the alias (searched, and written by the alias\'s workers)\n');
  if (deadLettered > 0) out.write('dead-lettered: files whose message is in the dead-letter queue; `keda-indexer dlq list` says why\n');
  return true;
}

function quoteEnv(value: string): string {
  return /^[A-Za-z0-9_./:@=+-]*$/.test(value) && value !== '' ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function reindexCreate(client: Client, settings: ElasticsearchSettings, model: ModelRecord, modelSetting: string, out: Out): Promise<boolean> {
  const alias = settings.index;
  const resolved = await resolveIndex(client, alias);
  const versions = await listVersions(client, alias);
  const version = Math.max(0, ...versions.map((v) => v.version)) + 1;
  const index = physicalIndexName(alias, version, modelSetting);
  const outcome = await createPhysicalIndex(client, index, { alias, version, model }, settings);
  if (outcome === 'exists') throw new StoreRefusal(`index ${index} exists already. Fix: check \`keda-indexer reindex status\`.`);
  const live = resolved.kind === 'missing' ? '(nothing yet)' : resolved.index;
  const env = [
    ['ELASTICSEARCH_INDEX', index],
    ['EMBEDDING_MODEL', modelSetting],
    ['EMBEDDING_DTYPE', model.dtype],
    ['EMBEDDING_PASSAGE_PREFIX', model.passage_prefix],
    ['EMBEDDING_QUERY_PREFIX', model.query_prefix],
    ['SQS_QUEUE_URL', '<the queue of the second pipeline>'],
  ] as const;
  out.write(
    `created ${index} (version ${version}, model ${model.name}, ${model.dims} dims, passage prefix ${JSON.stringify(model.passage_prefix)}, ` +
      `query prefix ${JSON.stringify(model.query_prefix)}); not behind ${alias} yet: search still reads ${live}.\n\n` +
      'Fill it with a second pipeline on its own queue, beside the live one (chart: an entry in `pipelines:`):\n\n' +
      env.map(([key, value]) => `  ${key}=${quoteEnv(value)}`).join('\n') +
      '\n\nthen enqueue every object of the bucket into that queue, and check and flip:\n\n' +
      '  SQS_QUEUE_URL=<the queue of the second pipeline> keda-indexer backfill s3://<bucket>/<prefix>\n' +
      `  keda-indexer reindex verify        # every file of ${live} present in ${index}\n` +
      `  keda-indexer reindex flip          # ${alias} → ${index}, atomically; --rollback goes back\n\n` +
      'Walk-through: docs/operations.md, "Change the embedding model".\n',
  );
  return true;
}

/** The index verify and flip move to: --to, else the newest version the alias does not point at. */
function pickTarget(versions: readonly IndexVersion[], explicit: string | undefined, live: string | undefined): string {
  if (explicit !== undefined) {
    if (!versions.some((v) => v.index === explicit)) {
      throw new StoreRefusal(`--to ${explicit} is not a version of this alias (see \`keda-indexer reindex status\`)`, true);
    }
    return explicit;
  }
  const candidates = versions.filter((v) => v.index !== live);
  const newest = candidates[candidates.length - 1];
  if (newest === undefined) throw new StoreRefusal('there is no other index to move to. Fix: create one with `keda-indexer reindex create --model …`.');
  return newest.index;
}

/** Chunks per file of an index, from the chunks themselves (composite aggregation, paged). */
async function chunksPerFile(client: Client, index: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let after: Record<string, string | number | boolean | null> | undefined;
  try {
    await client.indices.refresh({ index });
    for (;;) {
      const response = await client.search({
        index,
        size: 0,
        aggs: { files: { composite: { size: 1000, sources: [{ file: { terms: { field: 'file_path' } } }], ...(after === undefined ? {} : { after }) } } },
      });
      const files = response.aggregations?.files as
        | { buckets: { key: { file: string }; doc_count: number }[]; after_key?: Record<string, string | number | boolean | null> }
        | undefined;
      for (const bucket of files?.buckets ?? []) counts.set(bucket.key.file, bucket.doc_count);
      if (files?.after_key === undefined || files.buckets.length === 0) return counts;
      after = files.after_key;
    }
  } catch (error) {
    throw classifyElasticsearchError(error, `count chunks per file in ${index}`);
  }
}

export interface VerifyReport {
  readonly from: string;
  readonly to: string;
  readonly files: number;
  readonly missing: string[];
  /** Of the missing files, those the new index's records say were dead-lettered, with the reason. */
  readonly deadLettered: ReadonlyMap<string, string>;
  readonly odd: { file: string; from: number; to: number }[];
  /** Files only in the new index (deleted from the bucket meanwhile, or new uploads): a note, not an error. */
  readonly extra: number;
}

export async function verifyIndices(client: Client, from: string, to: string, maxChunkRatio: number): Promise<VerifyReport> {
  const [old, fresh] = await Promise.all([chunksPerFile(client, from), chunksPerFile(client, to)]);
  const missing: string[] = [];
  const odd: VerifyReport['odd'] = [];
  for (const [file, count] of old) {
    const now = fresh.get(file);
    if (now === undefined) missing.push(file);
    else if (now > count * maxChunkRatio || now * maxChunkRatio < count) odd.push({ file, from: count, to: now });
  }
  const extra = [...fresh.keys()].filter((file) => !old.has(file)).length;
  return { from, to, files: old.size, missing: missing.sort(), deadLettered: await deadLetteredAmong(client, recordsIndexOf(to), missing), odd, extra };
}

/** Which of `files` the records index says were dead-lettered, with the reason. */
async function deadLetteredAmong(client: Client, records: string, files: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  try {
    for (let first = 0; first < files.length; first += 1000) {
      const batch = files.slice(first, first + 1000);
      const response = await client.search<FileRecord>({
        index: records,
        size: batch.length,
        query: { bool: { filter: [{ term: { state: 'dead_lettered' } }, { terms: { file_path: batch } }] } },
        _source: ['file_path', 'reason'],
        ignore_unavailable: true,
      });
      for (const hit of response.hits.hits) {
        if (hit._source !== undefined) found.set(hit._source.file_path, hit._source.reason ?? '(no reason)');
      }
    }
  } catch (error) {
    throw classifyElasticsearchError(error, `read file records of ${records}`);
  }
  return found;
}

function writeReport(report: VerifyReport, out: Out): boolean {
  const dead = report.deadLettered.size;
  out.write(
    `${report.from} → ${report.to}: ${report.files} file(s) in the old index, ${report.missing.length} missing from the new one` +
      `${dead > 0 ? ` (${dead} of them dead-lettered)` : ''}, ${report.odd.length} with odd chunk counts, ${report.extra} only in the new one\n`,
  );
  for (const file of report.missing) {
    const reason = report.deadLettered.get(file);
    out.write(reason === undefined ? `missing  ${file}\n` : `dead-lettered  ${file} (${reason})\n`);
  }
  for (const { file, from, to } of report.odd) out.write(`chunks   ${file}: ${from} → ${to}\n`);
  const ok = report.missing.length === 0 && report.odd.length === 0;
  if (dead > 0) {
    out.write(
      'Fix for the dead-lettered: `keda-indexer dlq list` with the new pipeline\'s SQS_QUEUE_URL says why; fix the cause ' +
        '(docs/operations.md, "The dead-letter message"), then `keda-indexer redrive --reason R` there.\n',
    );
  }
  if (report.missing.length > dead || report.odd.length > 0) {
    out.write(
      'Fix: enqueue the missing files into the new index\'s queue again (`keda-indexer backfill` with that SQS_QUEUE_URL, or re-upload), ' +
        'wait for its workers, and verify again.\n',
    );
  }
  return ok;
}

async function reindexVerify(client: Client, alias: string, options: VerifyOptions, out: Out): Promise<boolean> {
  const resolved = await resolveIndex(client, alias);
  const live = resolved.kind === 'missing' ? undefined : resolved.index;
  const from = options.from ?? live;
  if (from === undefined) throw new StoreRefusal(`${alias} does not exist: nothing to verify against. Fix: pass --from INDEX.`);
  const to = options.to ?? pickTarget(await listVersions(client, alias), undefined, from);
  return writeReport(await verifyIndices(client, from, to, options.maxChunkRatio), out);
}

async function reindexFlip(client: Client, alias: string, options: FlipOptions, out: Out): Promise<boolean> {
  const resolved = await resolveIndex(client, alias);
  if (resolved.kind === 'missing') throw new StoreRefusal(`${alias} does not exist yet: there is nothing to flip. Fix: check ELASTICSEARCH_INDEX.`);
  const versions = await listVersions(client, alias);
  const live = resolved.index;
  let to: string;
  if (options.rollback) {
    // Back to the newest version older than the live one: the one the last flip left.
    const liveVersion = versions.find((v) => v.index === live)?.version ?? 0;
    const previous = versions.filter((v) => v.version < liveVersion && v.index !== alias);
    const target = options.to ?? previous[previous.length - 1]?.index;
    if (target === undefined) throw new StoreRefusal(`no older version of ${alias} than ${live} is left to roll back to (see \`keda-indexer reindex status\`)`);
    to = pickTarget(versions, target, live);
  } else {
    to = pickTarget(versions, options.to, live);
  }
  if (to === live) {
    out.write(`${alias} already points at ${to}\n`);
    return true;
  }
  if (!options.force && !options.rollback) {
    if (!writeReport(await verifyIndices(client, live, to, options.maxChunkRatio), out)) {
      out.write('Not flipped. Fix what verify reports, or flip anyway with --force.\n');
      return false;
    }
  }
  const meta = versions.find((v) => v.index === to)?.meta;
  if (meta === undefined) throw new StoreRefusal(`${to} has no model recorded in its mapping _meta: keda-indexer did not create it, so it will not put it behind ${alias}.`);
  let actions;
  if (resolved.kind === 'concrete') {
    if (!options.replaceIndex) {
      throw new StoreRefusal(
        `${alias} is a concrete index, not an alias: an alias of that name can only take its place when it goes. ` +
          `Fix: \`keda-indexer reindex flip --replace-index\` deletes ${alias} and puts the alias in its place in one atomic step; ` +
          'there is no rollback to it afterwards, so take a snapshot first if you may need it.',
      );
    }
    actions = [{ remove_index: { index: alias } }, { add: { index: to, alias } }];
  } else {
    actions = [{ remove: { index: live, alias } }, { add: { index: to, alias } }];
  }
  try {
    await client.indices.updateAliases({ actions });
  } catch (error) {
    throw classifyElasticsearchError(error, `move alias ${alias} to ${to}`);
  }
  if (resolved.kind === 'concrete') {
    // Its records belonged to the deleted index; left behind they would only mislead.
    await client.indices.delete({ index: recordsIndexOf(alias), ignore_unavailable: true });
    out.write(`${alias} (concrete index) deleted and replaced by alias ${alias} → ${to} (model ${meta.model.name})\n`);
  } else {
    out.write(`${alias} → ${to} (model ${meta.model.name}); was ${live}, kept: \`keda-indexer reindex flip --rollback\` goes back\n`);
  }
  out.write(
    `Workers writing to ${live} through the alias stop within ~10 s. Now point the live pipeline at the new model ` +
      `(EMBEDDING_MODEL=${meta.model.source}, ELASTICSEARCH_INDEX=${alias}) and remove the second pipeline.\n`,
  );
  return true;
}

async function reindexDelete(client: Client, alias: string, options: { readonly index?: string }, out: Out): Promise<boolean> {
  const resolved = await resolveIndex(client, alias);
  const live = resolved.kind === 'missing' ? undefined : resolved.index;
  const versions = await listVersions(client, alias);
  let index = options.index;
  if (index === undefined) {
    const liveVersion = versions.find((v) => v.index === live)?.version ?? Number.MAX_SAFE_INTEGER;
    const older = versions.filter((v) => v.version < liveVersion && v.index !== live);
    index = older[older.length - 1]?.index;
    if (index === undefined) throw new StoreRefusal(`no index older than ${live ?? alias} to delete (see \`keda-indexer reindex status\`)`);
  } else if (!versions.some((v) => v.index === index)) {
    throw new StoreRefusal(`--index ${index} is not a version of ${alias} (see \`keda-indexer reindex status\`)`, true);
  }
  if (index === live) throw new StoreRefusal(`${alias} points at ${index}: search reads it. Fix: flip the alias to another index first.`);
  try {
    await client.indices.delete({ index: [index, recordsIndexOf(index)], ignore_unavailable: true });
  } catch (error) {
    throw classifyElasticsearchError(error, `delete ${index}`);
  }
  out.write(`deleted ${index} and ${recordsIndexOf(index)}\n`);
  return true;
}
