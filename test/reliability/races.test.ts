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
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createEmbedder, type Embedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
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
