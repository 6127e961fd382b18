// Races: the same few keys edited, deleted and re-created many times in quick succession while
// three workers index them, each bulk write held back by a random delay (a proxy in front of
// Elasticsearch), so a slow writer of an old version regularly finishes after a fast writer of a
// newer one. At the end every file's chunks must be the text of the object in the bucket, deleted
// keys must have no chunks, and the accountant's tallies must be 0 (docs/operations.md, "The
// latest version wins").
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectTaggingCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, PutObjectTaggingCommand } from '@aws-sdk/client-s3';
import { createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { mergeMetadata } from '../../app/src/metadata/merge.js';
import { isSidecarKey, parseSidecar, sidecarKeyOf, type ParsedSidecar } from '../../app/src/metadata/sidecar.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';
import { chunksByFile, deleteObject, logLines, putObject, s3, sendBody, settings, waitFor, type RunningCli } from '../support/stack.js';
import { s3FilePath } from '../../app/src/store/document.js';
import { account, assertBalanced, expectedOutcomes } from './accountant.js';
import { prose, seededRandom, type CorpusFile } from './corpus.js';
import { createScenario, dropScenario, settle, sleep, startWorker, stopWorker, type Scenario } from './harness.js';

/** Most a bulk request is held back at random. */
const MAX_WRITE_DELAY_MS = 1000;
/** How long the write of an old version in the final burst is held back: well past the newer one's. */
const SLOW_WRITE_DELAY_MS = 6000;
const OPERATIONS = 40;

/** A bulk write held at the proxy until the test releases it. */
interface Gate {
  /** True once a bulk request carrying the marker has arrived (and is being held). */
  reached: boolean;
  release: () => void;
  readonly released: Promise<void>;
}

/**
 * An HTTP proxy to Elasticsearch that holds each bulk request back for a random time, and bulk
 * requests that carry a chunk whose text contains one of `slowMarkers` for several seconds: the
 * write of an old version then lands after that of the newer one, the interleaving to survive. A
 * bulk request carrying the marker of a gate is held until the test releases it: that ordering
 * is then certain, not likely.
 */
async function delayingProxy(
  target: URL,
  slowMarkers: ReadonlySet<string>,
  gates: ReadonlyMap<string, Gate>,
): Promise<{ url: string; server: Server; held: () => { bulk: number; slow: number } }> {
  const held = { bulk: 0, slow: 0 };
  const server = createServer((incoming, outgoing) => {
    const parts: Buffer[] = [];
    incoming.on('data', (part: Buffer) => parts.push(part));
    incoming.on('end', () => {
      const body = Buffer.concat(parts);
      let delay = 0;
      let gate: Promise<void> = Promise.resolve();
      if ((incoming.url ?? '').includes('_bulk')) {
        held.bulk++;
        delay = Math.random() * MAX_WRITE_DELAY_MS;
        const text = body.toString('utf8');
        if ([...slowMarkers].some((marker) => text.includes(marker))) {
          held.slow++;
          delay = SLOW_WRITE_DELAY_MS;
        }
        for (const [marker, g] of gates) {
          if (!text.includes(marker)) continue;
          g.reached = true;
          gate = g.released;
        }
      }
      void gate.then(() => setTimeout(() => {
        const upstream = request(
          { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers: incoming.headers },
          (response) => {
            outgoing.writeHead(response.statusCode ?? 502, response.headers);
            response.pipe(outgoing);
          },
        );
        upstream.on('error', () => outgoing.destroy());
        upstream.end(body);
      }, delay));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, held: () => ({ ...held }) };
}

/** The key whose older version's write is held until the newer version is indexed. */
const GATED_KEY = 'races/k2.html';
const KEYS = ['races/k0.txt', 'races/k1.md', 'races/k2.html', 'races/k3.pdf', 'races/k4.txt', 'races/k5.pdf', 'races/k6.docx', 'races/k7.txt'];
/** Edited but never deleted, and announced twice: by S3 and by a {"bucket","key"} message (no sequencer). */
const ALSO_REQUESTED = new Set(['races/k0.txt', 'races/k1.md']);

/** A new version of a key: its text says which, and its length (1–4 chunks) varies. */
async function version(key: string, n: number, random: () => number): Promise<Uint8Array | string> {
  const text = `Version ${n} of ${key}. ${prose(random, 5 + Math.floor(random() * 450))}`;
  const extension = key.slice(key.lastIndexOf('.') + 1);
  switch (extension) {
    case 'pdf':
      return makePdf(text.match(/[\s\S]{1,900}(?:\s|$)/g) ?? [text]);
    case 'docx':
      return makeDocx([{ paragraphs: text.match(/[^.]+\./g) ?? [text] }]);
    case 'html':
      return `<html><body><p>${text}</p></body></html>`;
    case 'md':
      return `# ${key}\n\n${text}`;
    default:
      return text;
  }
}

async function bucketContents(bucket: string): Promise<CorpusFile[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  const files: CorpusFile[] = [];
  for (const { Key } of listed.Contents ?? []) {
    if (Key === undefined) continue;
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
    files.push({ key: Key, body: await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())) });
  }
  return files;
}

describe('races', () => {
  let embedder: Embedder;
  let scenario: Scenario | undefined;
  let proxy: Awaited<ReturnType<typeof delayingProxy>> | undefined;

  before(async () => {
    embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  });
  after(async () => {
    await embedder.dispose();
    proxy?.server.close();
    if (scenario) await dropScenario(scenario);
  });

  test('rapid edits, deletes and re-creates under three workers with delayed writes: the index ends equal to the bucket', { timeout: 8 * 60_000 }, async () => {
    const slowMarkers = new Set<string>();
    const gates = new Map<string, Gate>();
    proxy = await delayingProxy(new URL(settings.elasticsearch.url), slowMarkers, gates);
    // A gated write waits for the newer version to be indexed: longer than the client's default
    // 30 s request timeout on a loaded machine, and a timed-out request would be sent again.
    scenario = await createScenario('races', { notify: true, env: { ELASTICSEARCH_URL: proxy.url, LOG_LEVEL: 'info', ELASTICSEARCH_REQUEST_TIMEOUT_SECONDS: '600' } });
    const { bucket, queueUrl } = scenario;
    const workers: RunningCli[] = [startWorker(scenario), startWorker(scenario), startWorker(scenario)];

    const random = seededRandom(1313);
    const present = new Set<string>();
    const versions = new Map<string, number>();
    const done = { puts: 0, deletes: 0, recreates: 0, requests: 0 };
    const put = async (key: string, hold: 'none' | 'slow' | 'gate' = 'none'): Promise<string> => {
      const n = (versions.get(key) ?? 0) + 1;
      versions.set(key, n);
      const marker = `Version ${n} of ${key}.`;
      if (hold === 'slow') slowMarkers.add(marker);
      if (hold === 'gate') {
        let release = () => {};
        const released = new Promise<void>((resolve) => (release = resolve));
        gates.set(marker, { reached: false, release, released });
      }
      if (!present.has(key) && n > 1) done.recreates++;
      await putObject(bucket, key, await version(key, n, random));
      present.add(key);
      done.puts++;
      if (ALSO_REQUESTED.has(key)) {
        await sendBody(queueUrl, JSON.stringify({ bucket, key }));
        done.requests++;
      }
      return marker;
    };
    const remove = async (key: string) => {
      await deleteObject(bucket, key);
      present.delete(key);
      done.deletes++;
    };
    for (let op = 0; op < OPERATIONS; op++) {
      const key = KEYS[Math.floor(random() * KEYS.length)] ?? 'races/k0.txt';
      if (present.has(key) && !ALSO_REQUESTED.has(key) && random() < 0.3) await remove(key);
      else await put(key);
      await sleep(random() * 250);
    }
    // Then, with the workers idle, a final burst on all keys at once: each changed twice, 200 ms
    // apart, so the older version is likely downloaded before the newer one exists, and the older
    // one's write is held back longest; one key ends deleted, one deleted and re-created. On one
    // key the order is made certain rather than likely (a loaded machine may take more than 200 ms
    // to download): its older version's write is held at the proxy until the newer version is
    // indexed, so it lands after a later claim and must come out superseded.
    await settle(scenario, 5 * 60_000, 2000);
    const gap = () => sleep(200);
    let gatedOld = '';
    await Promise.all(
      KEYS.map(async (key) => {
        if (key === GATED_KEY) {
          gatedOld = await put(key, 'gate');
          const gate = gates.get(gatedOld);
          assert.ok(gate);
          try {
            await waitFor(`the write of "${gatedOld}" to reach the proxy`, () => Promise.resolve(gate.reached), 120_000);
            const newer = await put(key);
            await waitFor(`"${newer}" to be indexed`, async () => {
              const chunks = (await chunksByFile(scenario?.index ?? '')).get(s3FilePath(bucket, key)) ?? [];
              return chunks.some((chunk) => chunk.content.includes(newer));
            }, 120_000);
          } finally {
            gate.release();
          }
        } else if (key === 'races/k7.txt') {
          await put(key, 'slow');
          await gap();
          await remove(key);
        } else if (key === 'races/k5.pdf') {
          await put(key, 'slow');
          await gap();
          await remove(key);
          await gap();
          await put(key);
        } else {
          await put(key, 'slow');
          await gap();
          await put(key);
        }
      }),
    );

    await settle(scenario, 5 * 60_000, 5000);
    for (const worker of workers) assert.equal(await stopWorker(worker), 0, worker.output().slice(-2000));
    const outcomes = (outcome: string) => workers.reduce((sum, worker) => sum + (worker.output().match(new RegExp(`"outcome":"${outcome}"`, 'g'))?.length ?? 0), 0);
    const superseded = outcomes('superseded');
    process.stdout.write(
      `# races: ${done.puts} puts (${done.recreates} re-creates), ${done.deletes} deletes, ${done.requests} {bucket,key} messages on ${KEYS.length} keys ` +
        `(${KEYS.length - present.size} deleted at the end); ` +
        `${proxy.held().bulk} bulk requests held back up to ${MAX_WRITE_DELAY_MS} ms, ${proxy.held().slow} of old versions ${SLOW_WRITE_DELAY_MS} ms; ` +
        `worker outcomes: ${outcomes('indexed')} indexed, ` +
        `${outcomes('removed')} removed, ${superseded} superseded\n`,
    );
    assert.ok(superseded > 0, 'the scenario raced: some write lost to a later claim of its file');
    // The gated key's older version was written after the newer one: that write must have lost.
    const gatedLost = workers.some((worker) => logLines(worker.stderr()).some((line) => line.outcome === 'superseded' && line.key === GATED_KEY));
    assert.ok(gatedLost, `the write of "${gatedOld}", released after the newer version was indexed, did not come out superseded`);

    const final = await bucketContents(bucket);
    assert.deepEqual(final.map((file) => file.key).sort(), [...present].sort());
    assertBalanced(
      await account({
        scenario: scenario.name,
        bucket,
        index: scenario.index,
        deadLetterUrl: scenario.deadLetterUrl,
        expected: await expectedOutcomes(final, settings, embedder),
        compareText: true,
      }),
    );
  });
});

/** Access on, every metadata source read: what the metadata races run under. */
const ACCESS_SETTINGS = { fields: {}, aclKey: 'allowed', aclDefault: 'private' } as const;
const META_KEYS = ['meta/a.txt', 'meta/b.md', 'meta/c.txt', 'meta/d.html', 'meta/e.txt', 'meta/f.md'];
const DEPARTMENTS = ['finance', 'legal', 'sales', 'support'];
const PRINCIPALS = ['group:finance', 'group:legal', 'user:ana', 'user:bo', 'user:cy'];
const META_OPERATIONS = 60;

/** What the bucket holds about a key at the end: the three sources the worker reads, read the same way. */
async function finalMetadataFields(bucket: string, key: string): Promise<Record<string, unknown>> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
  let sidecar: ParsedSidecar | 'absent' = 'absent';
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: sidecarKeyOf(key) }));
    sidecar = parseSidecar(await (object.Body?.transformToByteArray() ?? Promise.resolve(new Uint8Array())));
  } catch (error) {
    if ((error as { name?: string }).name !== 'NoSuchKey') throw error;
  }
  const tags = Object.fromEntries((tagging.TagSet ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
  const merged = mergeMetadata({ objectMetadata: head.Metadata ?? {}, tags, sidecar }, ACCESS_SETTINGS);
  const fields: Record<string, unknown> = { ...merged.meta, acl_principals: merged.access?.principals ?? [], acl_public: merged.access?.public ?? false };
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)));
}

describe('races of metadata and access', () => {
  let embedder: Embedder;
  let scenario: Scenario | undefined;
  let proxy: Awaited<ReturnType<typeof delayingProxy>> | undefined;

  before(async () => {
    embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  });
  after(async () => {
    await embedder.dispose();
    proxy?.server.close();
    if (scenario) await dropScenario(scenario);
  });

  test("tag, sidecar and user-metadata changes racing content edits under three workers: every file's chunks end with the bucket's final metadata and principals", { timeout: 8 * 60_000 }, async () => {
    const slowMarkers = new Set<string>();
    proxy = await delayingProxy(new URL(settings.elasticsearch.url), slowMarkers, new Map());
    scenario = await createScenario('races-meta', {
      notify: true,
      readTags: true,
      env: {
        ELASTICSEARCH_URL: proxy.url,
        LOG_LEVEL: 'info',
        ELASTICSEARCH_REQUEST_TIMEOUT_SECONDS: '600',
        S3_READ_TAGS: 'true',
        S3_READ_SIDECARS: 'true',
        ACL_METADATA_KEY: ACCESS_SETTINGS.aclKey,
      },
    });
    const { bucket } = scenario;
    const workers: RunningCli[] = [startWorker(scenario), startWorker(scenario), startWorker(scenario)];
    const random = seededRandom(2727);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] ?? (list[0] as T);
    const principals = (): string[] => PRINCIPALS.filter(() => random() < 0.35);
    const present = new Set<string>();
    const versions = new Map<string, number>();
    const done = { edits: 0, tags: 0, untags: 0, sidecars: 0, brokenSidecars: 0, unsidecars: 0, deletes: 0 };

    const edit = async (key: string, hold: 'none' | 'slow' = 'none'): Promise<void> => {
      const n = (versions.get(key) ?? 0) + 1;
      versions.set(key, n);
      if (hold === 'slow') slowMarkers.add(`Version ${n} of ${key}.`);
      // A new version of an object has the user metadata it is written with and no tags.
      const metadata: Record<string, string> = { dept: pick(DEPARTMENTS) };
      if (random() < 0.6) metadata.allowed = principals().join(',');
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: await version(key, n, random), Metadata: metadata }));
      present.add(key);
      done.edits++;
    };
    const tag = async (key: string, revoke = false): Promise<void> => {
      const tags: Record<string, string> = { stage: pick(['draft', 'review', 'final']) };
      // Tag values cannot hold commas: principals separated by spaces. An empty value revokes.
      if (revoke || random() < 0.7) tags.allowed = revoke ? '' : principals().join(' ');
      await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: key, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }));
      done.tags++;
    };
    const sidecar = async (key: string): Promise<void> => {
      const attributes: Record<string, unknown> = { region: pick(['north', 'south', 'east']) };
      if (random() < 0.5) attributes.allowed = principals();
      const body = random() < 0.5 ? { metadataAttributes: attributes } : attributes;
      await putObject(bucket, sidecarKeyOf(key), JSON.stringify(body));
      done.sidecars++;
    };

    for (let op = 0; op < META_OPERATIONS; op++) {
      const key = pick(META_KEYS);
      const roll = random();
      if (!present.has(key) || roll < 0.25) await edit(key);
      else if (roll < 0.45) await tag(key);
      else if (roll < 0.55) {
        await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key }));
        done.untags++;
      } else if (roll < 0.75) await sidecar(key);
      else if (roll < 0.8) {
        // Unreadable: the file is indexed without it, and readable by nobody (fail-closed).
        await putObject(bucket, sidecarKeyOf(key), '{"metadataAttributes": {"allowed": ');
        done.brokenSidecars++;
      } else if (roll < 0.9) {
        await deleteObject(bucket, sidecarKeyOf(key));
        done.unsidecars++;
      } else {
        await deleteObject(bucket, key);
        present.delete(key);
        done.deletes++;
      }
      await sleep(random() * 200);
    }
    // Then, content left alone, metadata only: tags, sidecars (some unreadable) and removals of
    // both, in quick succession on every key, so metadata-only updates of one file race each other
    // across the workers (each rewrite under a claim of its own; an older one must lose).
    await settle(scenario, 5 * 60_000, 2000);
    for (let op = 0; op < META_OPERATIONS / 2; op++) {
      const key = pick([...present]);
      const roll = random();
      if (roll < 0.4) await tag(key);
      else if (roll < 0.7) await sidecar(key);
      else if (roll < 0.8) {
        await putObject(bucket, sidecarKeyOf(key), 'not json');
        done.brokenSidecars++;
      } else if (roll < 0.9) {
        await deleteObject(bucket, sidecarKeyOf(key));
        done.unsidecars++;
      } else {
        await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: key }));
        done.untags++;
      }
      await sleep(random() * 100);
    }
    await settle(scenario, 5 * 60_000, 2000);
    // Last, a revoke racing a content edit on every key at once: the edit's write is held back, and
    // meanwhile the sidecar goes and a tag change revokes access (tags win over user metadata):
    // the end must say "nobody", whatever the edit's own metadata said.
    await settle(scenario, 5 * 60_000, 2000);
    await Promise.all(
      META_KEYS.map(async (key) => {
        await edit(key, 'slow');
        await sleep(100);
        await deleteObject(bucket, sidecarKeyOf(key));
        await tag(key, true);
      }),
    );
    await settle(scenario, 5 * 60_000, 5000);
    for (const worker of workers) assert.equal(await stopWorker(worker), 0, worker.output().slice(-2000));
    const outcomes = (outcome: string) => workers.reduce((sum, worker) => sum + (worker.output().match(new RegExp(`"outcome":"${outcome}"`, 'g'))?.length ?? 0), 0);
    process.stdout.write(
      `# races of metadata: ${done.edits} edits, ${done.tags} tag changes, ${done.untags} tag removals, ${done.sidecars} sidecars, ` +
        `${done.brokenSidecars} broken sidecars, ${done.unsidecars} sidecar deletes, ${done.deletes} deletes on ${META_KEYS.length} keys; ` +
        `${proxy.held().bulk} bulk requests held back, ${proxy.held().slow} of old versions; worker outcomes: ` +
        `${outcomes('indexed')} indexed, ${outcomes('metadata_updated')} metadata updated, ${outcomes('superseded')} superseded\n`,
    );

    assert.ok(outcomes('metadata_updated') > 0, 'the scenario updated metadata in place (no download, no embedding) while it raced');
    const final = (await bucketContents(bucket)).filter((file) => !isSidecarKey(file.key));
    assert.deepEqual(final.map((file) => file.key).sort(), [...present].sort());
    const expected = await expectedOutcomes(final, settings, embedder);
    for (const [key, expectation] of expected) {
      if (expectation.outcome === 'indexed') expected.set(key, { ...expectation, fields: await finalMetadataFields(bucket, key) });
    }
    // Every key ends revoked by its tag (an empty list): readable by nobody.
    for (const expectation of expected.values()) {
      if (expectation.outcome === 'indexed') assert.deepEqual([expectation.fields?.acl_principals, expectation.fields?.acl_public], [[], false]);
    }
    assertBalanced(
      await account({ scenario: scenario.name, bucket, index: scenario.index, deadLetterUrl: scenario.deadLetterUrl, expected, compareText: true, compareMetadata: true }),
    );
  });
});
