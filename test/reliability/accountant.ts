// The accountant: compares what was uploaded with what ended up in Elasticsearch and in the
// dead-letter queue. Every file must be indexed exactly once — with exactly the chunks the
// project's own convert and split stages make of it, no more and no fewer — or be in the DLQ with
// the reason expected for it. Anything else is lost, duplicated or unexplained. Where files were
// edited while being indexed, it also compares the chunks' text with what the file in the bucket
// makes (stale text: an older version's chunks survived).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Settings } from '../../app/src/config/config.js';
import { ConvertSandbox } from '../../app/src/convert/sandbox.js';
import type { Embedder } from '../../app/src/embed/embedder.js';
import { isPermanent } from '../../app/src/failure.js';
import { RESERVED_NAMES } from '../../app/src/metadata/values.js';
import { s3FilePath, sourceIdOf } from '../../app/src/store/document.js';
import { sandboxLimitsOf, splitOptionsOf, splitWithParts } from '../../app/src/pipeline/index-file.js';
import { es, takeDeadLetters } from '../support/stack.js';
import type { CorpusFile } from './corpus.js';

export type Expected =
  | {
      readonly outcome: 'indexed';
      readonly chunks: number;
      /** Of the chunks' texts in order. */
      readonly textHash?: string;
      /** The metadata and access fields every chunk must carry, and no other (when compared). */
      readonly fields?: Readonly<Record<string, unknown>>;
    }
  | { readonly outcome: 'dead-lettered'; readonly reason: string };

/** One hash over a file's chunk texts in split order. */
export function textHashOf(contents: readonly string[]): string {
  const hash = createHash('sha256');
  for (const content of contents) hash.update(content).update('\u0000');
  return hash.digest('hex');
}

/**
 * What each file should become, computed with the worker's own stages and settings: converted in
 * the same sandbox (so heap, memory, time and text caps decide as they do in the worker), split
 * with the same options, and held to the same chunk cap.
 */
export async function expectedOutcomes(files: readonly CorpusFile[], settings: Settings, embedder: Embedder): Promise<Map<string, Expected>> {
  const expected = new Map<string, Expected>();
  const limits = settings.convert;
  const sandbox = new ConvertSandbox({ processes: 1, limits: sandboxLimitsOf(settings) });
  try {
    for (const file of files) {
      const bytes = typeof file.body === 'string' ? new TextEncoder().encode(file.body) : file.body;
      try {
        if (bytes.byteLength > settings.fetch.maxBytes) {
          expected.set(file.key, { outcome: 'dead-lettered', reason: 'too_large' });
          continue;
        }
        const converted = await sandbox.convert(bytes, path.posix.basename(file.key));
        const chunks = splitWithParts(converted, file.key, splitOptionsOf(settings, embedder));
        if (chunks.length === 0) expected.set(file.key, { outcome: 'dead-lettered', reason: 'no_text' });
        else if (chunks.length > limits.maxChunks) expected.set(file.key, { outcome: 'dead-lettered', reason: 'too_large' });
        else expected.set(file.key, { outcome: 'indexed', chunks: chunks.length, textHash: textHashOf(chunks.map((chunk) => chunk.content)) });
      } catch (error) {
        if (!isPermanent(error)) throw error;
        expected.set(file.key, { outcome: 'dead-lettered', reason: error.reason });
      }
    }
  } finally {
    await sandbox.close();
  }
  return expected;
}

export interface Tally {
  readonly uploaded: number;
  readonly indexed: number;
  readonly chunks: number;
  readonly deadLettered: number;
  readonly lost: string[];
  readonly duplicatedChunks: number;
  readonly wrongChunkCounts: string[];
  readonly unexplainedDeadLetters: string[];
  /** Files whose chunks hold other text than the object in the bucket makes (when compared). */
  readonly staleText?: string[];
  /** Files with a chunk whose metadata or access fields are not the bucket's final ones (when compared). */
  readonly wrongMetadata?: string[];
}

interface ChunkRow {
  readonly file_path: string;
  readonly source_id: string;
  readonly split_id: number;
  readonly content?: string;
  /** With whole sources read: the metadata and access fields beside these. */
  readonly [field: string]: unknown;
}

/** A chunk's fields that are the file's metadata and access: all but the chunk's own (RESERVED_NAMES, less the access fields). */
function metadataFieldsOf(row: ChunkRow): Record<string, unknown> {
  const fields = Object.entries(row).filter(([name]) => !RESERVED_NAMES.has(name) || name === 'acl_principals' || name === 'acl_public');
  return Object.fromEntries(fields.sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * All chunks of the bucket, by the file they were made from (its source id: an e-mail's
 * attachments, `<file path>#<name>`, are chunks of their mail), read with a scroll so none is missed.
 */
async function chunksOfBucket(index: string, bucket: string, withContent: boolean, whole = false): Promise<Map<string, ChunkRow[]>> {
  await es.indices.refresh({ index });
  const byFile = new Map<string, ChunkRow[]>();
  let response = await es.search<ChunkRow>({
    index,
    scroll: '1m',
    size: 5000,
    _source: whole ? { excludes: ['embedding'] } : withContent ? ['file_path', 'source_id', 'split_id', 'content'] : ['file_path', 'source_id', 'split_id'],
    query: { prefix: { file_path: `s3://${bucket}/` } },
  });
  for (;;) {
    const hits = response.hits.hits;
    if (hits.length === 0) break;
    for (const hit of hits) {
      const row = hit._source;
      if (row === undefined) continue;
      const list = byFile.get(row.source_id) ?? [];
      list.push(row);
      byFile.set(row.source_id, list);
    }
    if (response._scroll_id === undefined) break;
    response = await es.scroll<ChunkRow>({ scroll_id: response._scroll_id, scroll: '1m' });
  }
  if (response._scroll_id !== undefined) await es.clearScroll({ scroll_id: response._scroll_id });
  return byFile;
}

/** Reads the index and drains the DLQ, then tallies against what was expected. */
export async function account(options: {
  readonly scenario: string;
  readonly bucket: string;
  readonly index: string;
  readonly deadLetterUrl: string;
  readonly expected: ReadonlyMap<string, Expected>;
  /** Messages that name no file (malformed bodies) and the reason each must be dead-lettered with. */
  readonly expectedBodies?: ReadonlyMap<string, string>;
  /** Also compare each indexed file's chunk texts with `textHash` (files edited during the run). */
  readonly compareText?: boolean;
  /** Also compare every chunk's metadata and access fields with `fields` (metadata changed during the run). */
  readonly compareMetadata?: boolean;
}): Promise<Tally> {
  const { bucket, expected } = options;
  const chunks = await chunksOfBucket(options.index, bucket, options.compareText === true, options.compareMetadata === true);
  const letters = await takeDeadLetters(options.deadLetterUrl);
  const lettersByKey = new Map<string, string[]>();
  const unexplained: string[] = [];
  const bodiesSeen = new Map<string, number>();
  for (const letter of letters) {
    const bodyReason = options.expectedBodies?.get(letter.body);
    if (bodyReason !== undefined) {
      if (bodyReason !== letter.reason) unexplained.push(`body ${letter.body.slice(0, 60)} → ${letter.reason}, expected ${bodyReason}`);
      bodiesSeen.set(letter.body, (bodiesSeen.get(letter.body) ?? 0) + 1);
      continue;
    }
    let key: string | undefined;
    try {
      key = (JSON.parse(letter.body) as { key?: string }).key;
    } catch {
      key = undefined;
    }
    if (key === undefined) {
      // S3 notifications carry the key encoded inside Records.
      const encoded = /"key":\s*"([^"]+)"/.exec(letter.body)?.[1];
      key = encoded === undefined ? undefined : decodeURIComponent(encoded.replace(/\+/g, ' '));
    }
    const expectation = key === undefined ? undefined : expected.get(key);
    if (key === undefined || expectation?.outcome !== 'dead-lettered' || expectation.reason !== letter.reason) {
      unexplained.push(`${key ?? letter.body.slice(0, 80)} → ${letter.reason || '(no reason: moved by the redrive policy)'}`);
      continue;
    }
    lettersByKey.set(key, [...(lettersByKey.get(key) ?? []), letter.reason]);
  }

  let indexed = 0;
  let chunkTotal = 0;
  let duplicated = 0;
  let deadLettered = 0;
  const lost: string[] = [];
  const wrongCounts: string[] = [];
  const staleText: string[] = [];
  const wrongMetadata: string[] = [];
  for (const [key, expectation] of expected) {
    const rows = chunks.get(sourceIdOf(s3FilePath(bucket, key))) ?? [];
    const ids = rows.map((row) => row.split_id);
    const letterCount = lettersByKey.get(key)?.length ?? 0;
    duplicated += ids.length - new Set(ids).size;
    if (expectation.outcome === 'indexed') {
      if (ids.length === 0) {
        lost.push(key);
        continue;
      }
      indexed++;
      chunkTotal += ids.length;
      const unique = new Set(ids).size;
      if (unique !== expectation.chunks || Math.max(...ids) !== expectation.chunks - 1) {
        wrongCounts.push(`${key}: ${unique} chunks, expected ${expectation.chunks}`);
      }
      if (options.compareText === true) {
        const indexedText = textHashOf([...rows].sort((a, b) => a.split_id - b.split_id).map((row) => row.content ?? ''));
        if (indexedText !== expectation.textHash) staleText.push(key);
      }
      if (options.compareMetadata === true) {
        const want = JSON.stringify(expectation.fields ?? {});
        const wrong = rows.find((row) => JSON.stringify(metadataFieldsOf(row)) !== want);
        if (wrong !== undefined) wrongMetadata.push(`${key}: chunk ${wrong.split_id} carries ${JSON.stringify(metadataFieldsOf(wrong))}, the bucket says ${want}`);
      }
    } else {
      if (letterCount === 0) lost.push(`${key} (expected in the DLQ as ${expectation.reason})`);
      else deadLettered++;
      if (letterCount > 1) unexplained.push(`${key} dead-lettered ${letterCount} times`);
      if (ids.length > 0) wrongCounts.push(`${key}: indexed although expected in the DLQ`);
    }
  }
  for (const [body, reason] of options.expectedBodies ?? []) {
    const seen = bodiesSeen.get(body) ?? 0;
    if (seen === 0) lost.push(`message ${body.slice(0, 60)} (expected in the DLQ as ${reason})`);
    else deadLettered++;
    if (seen > 1) unexplained.push(`message ${body.slice(0, 60)} dead-lettered ${seen} times`);
  }
  const expectedSources = new Set([...expected.keys()].map((key) => sourceIdOf(s3FilePath(bucket, key))));
  for (const [sourceId, rows] of chunks) {
    if (expectedSources.has(sourceId)) continue;
    const key = (rows[0]?.file_path ?? sourceId).slice(`s3://${bucket}/`.length);
    // Where files come and go during the run, chunks of a key absent from the bucket are stale.
    if (options.compareText === true) staleText.push(`${key} (not in the bucket)`);
    else unexplained.push(`${key} indexed but never uploaded`);
  }

  const tally: Tally = {
    uploaded: expected.size + (options.expectedBodies?.size ?? 0),
    indexed,
    chunks: chunkTotal,
    deadLettered,
    lost,
    duplicatedChunks: duplicated,
    wrongChunkCounts: wrongCounts,
    unexplainedDeadLetters: unexplained,
    ...(options.compareText === true ? { staleText } : {}),
    ...(options.compareMetadata === true ? { wrongMetadata } : {}),
  };
  process.stdout.write(
    `# accountant [${options.scenario}]: uploaded ${tally.uploaded} | indexed ${tally.indexed} (${tally.chunks} chunks) | ` +
      `dead-lettered ${tally.deadLettered} | lost ${lost.length} | duplicated chunks ${duplicated} | ` +
      `wrong chunk counts ${wrongCounts.length} | unexplained DLQ ${unexplained.length}` +
      (options.compareText === true ? ` | stale text ${staleText.length}` : '') +
      (options.compareMetadata === true ? ` | wrong metadata ${wrongMetadata.length}` : '') +
      '\n',
  );
  return tally;
}

/** The promise: 0 lost, 0 duplicated, 0 unexplained. */
export function assertBalanced(tally: Tally): void {
  assert.deepEqual(tally.lost, [], 'lost files');
  assert.equal(tally.duplicatedChunks, 0, 'duplicated chunks');
  assert.deepEqual(tally.wrongChunkCounts, [], 'files with the wrong number of chunks');
  assert.deepEqual(tally.unexplainedDeadLetters, [], 'unexplained dead letters');
  assert.deepEqual(tally.staleText ?? [], [], 'files whose chunks are not the text of the object in the bucket');
  assert.deepEqual(tally.wrongMetadata ?? [], [], "files whose chunks do not carry the bucket's final metadata and principals");
  assert.equal(tally.indexed + tally.deadLettered, tally.uploaded);
}
