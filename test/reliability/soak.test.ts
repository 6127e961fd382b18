// Soak: one long-running worker takes 2,000 small files, and neither leaks listeners (Node's
// MaxListenersExceededWarning, "Possible EventTarget memory leak") nor grows its heap: the heap it
// holds after 2,000 files is within 10 % of what it held after 200 (issue #29).
//
// How the heap is measured, and why so: the worker's /metrics exposes prom-client's
// keda_indexer_nodejs_heap_size_used_bytes, but heap used between collections is mostly garbage
// that the next collection frees, and it swings by tens of MB with when the last major GC ran.
// So the worker runs with --expose-gc and a test-only preload (gc-on-signal.js): at each sample
// point the queue has settled (nothing in flight), the test sends SIGUSR2, the worker runs a
// full collection and says so on stderr, and only then the test reads /metrics. Three such
// readings are taken a second apart and the smallest kept: what a quiet worker allocates between
// the collection and the scrape (a long-poll receive) is noise, and the smallest reading is the
// closest to the live heap. The first sample is taken after 200 files, not at start: by then
// the worker has loaded its lazy modules and filled its fixed-size caches, so growth from there
// on is what a long-lived pod would keep accumulating.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freePort, queueDepth } from '../support/stack.js';
import { prose, seededRandom, type CorpusFile } from './corpus.js';
import { createScenario, dropScenario, settle, sleep, startWorker, stopWorker, upload, type Scenario } from './harness.js';

const FILES = Number(process.env.RELIABILITY_SOAK_FILES ?? 2000);
const FIRST_SAMPLE = Math.round(FILES / 10);
/** The bound: heap after FILES files at most 10 % above the heap after FILES / 10. */
const MAX_HEAP_RATIO = 1.1;
const LEAK_WARNING = /MaxListenersExceededWarning|Possible EventTarget memory leak|memory leak detected/i;

let scenario: Scenario | undefined;
after(async () => {
  if (scenario) await dropScenario(scenario);
});

/** Small files of three text formats, one or two chunks each: the per-message path is what runs 2,000 times. */
function smallFiles(count: number): CorpusFile[] {
  const random = seededRandom(29);
  return Array.from({ length: count }, (_, i) => {
    const text = prose(random, 20 + Math.floor(random() * 60));
    if (i % 3 === 0) return { key: `soak/${i}.html`, body: `<html><body><h1>File ${i}</h1><p>${text}</p></body></html>` };
    if (i % 3 === 1) return { key: `soak/${i}.md`, body: `# File ${i}\n\n${text}\n` };
    return { key: `soak/${i}.txt`, body: text };
  });
}

/** A value of the worker's /metrics, summed over its label sets. */
async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const values = text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`)).map((line) => Number(line.slice(line.lastIndexOf(' ') + 1)));
  assert.ok(values.length > 0, `no ${name} in /metrics`);
  return values.reduce((sum, value) => sum + value, 0);
}

/** The worker's live heap in bytes: the smallest of three readings, each right after a full collection. */
async function heapAfterGc(worker: ReturnType<typeof startWorker>, port: number): Promise<{ bytes: number; readings: number[] }> {
  const readings: number[] = [];
  for (let round = 0; round < 3; round++) {
    const done = (worker.stderr().match(/"test: full garbage collection done"/g) ?? []).length;
    worker.child.kill('SIGUSR2');
    for (let wait = 0; (worker.stderr().match(/"test: full garbage collection done"/g) ?? []).length <= done; wait++) {
      assert.ok(wait < 300, 'the worker did not report its garbage collection within 30 s (is the preload loaded?)');
      await sleep(100);
    }
    readings.push(await metric(port, 'keda_indexer_nodejs_heap_size_used_bytes'));
    await sleep(1000);
  }
  return { bytes: Math.min(...readings), readings };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

test(`soak: one worker, ${FILES} small files, no listener leak and a flat heap`, { timeout: 25 * 60_000 }, async () => {
  const port = await freePort();
  const preload = pathToFileURL(new URL('./gc-on-signal.js', import.meta.url).pathname).href;
  scenario = await createScenario('soak', {
    notify: true,
    env: {
      WORKER_CONCURRENCY: '4',
      HTTP_PORT: String(port),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import=${preload}`.trim(),
    },
  });
  const files = smallFiles(FILES);
  const worker = startWorker(scenario);
  const started = Date.now();
  let exit: number | string | undefined;
  try {
    await upload(scenario, files.slice(0, FIRST_SAMPLE), 8, { maxBacklog: 50 });
    await settle(scenario, 10 * 60_000);
    assert.equal(await metric(port, 'keda_indexer_files_indexed_total'), FIRST_SAMPLE, 'every file of the first part is indexed');
    const first = await heapAfterGc(worker, port);
    const firstSeconds = (Date.now() - started) / 1000;

    await upload(scenario, files.slice(FIRST_SAMPLE), 8, { maxBacklog: 50 });
    await settle(scenario, 20 * 60_000);
    assert.equal(await metric(port, 'keda_indexer_files_indexed_total'), FILES, 'every file is indexed');
    const last = await heapAfterGc(worker, port);
    const seconds = (Date.now() - started) / 1000;
    const ratio = last.bytes / first.bytes;

    process.stdout.write(
      `# soak: ${FILES} files in ${seconds.toFixed(0)} s (${(FILES / seconds).toFixed(1)} files/s; the first ${FIRST_SAMPLE} in ${firstSeconds.toFixed(0)} s); ` +
        `heap used after a full GC: ${mb(first.bytes)} MB after ${FIRST_SAMPLE} files (readings ${first.readings.map(mb).join(', ')}), ` +
        `${mb(last.bytes)} MB after ${FILES} (readings ${last.readings.map(mb).join(', ')}): ratio ${ratio.toFixed(3)} (bound ${MAX_HEAP_RATIO})\n`,
    );
    assert.equal((await queueDepth(scenario.deadLetterUrl)).visible, 0, 'nothing was dead-lettered');
    assert.doesNotMatch(worker.output(), LEAK_WARNING, 'the worker warned of a listener leak');
    assert.ok(ratio <= MAX_HEAP_RATIO, `heap after ${FILES} files is ${mb(last.bytes)} MB, ${((ratio - 1) * 100).toFixed(1)} % above the ${mb(first.bytes)} MB after ${FIRST_SAMPLE}`);
  } finally {
    exit = await stopWorker(worker);
  }
  assert.equal(exit, 0, worker.output().slice(-2000));
  // The converter processes' and the worker's whole output, read to its end after the exit.
  assert.doesNotMatch(worker.output(), LEAK_WARNING, 'the worker warned of a listener leak');
});
