// Load: a large mixed corpus through the S3 notification path, consumed by two worker processes
// at once. Every file must be indexed exactly once.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { settings } from '../support/stack.js';
import { account, assertBalanced, expectedOutcomes } from './accountant.js';
import { buildCorpus } from './corpus.js';
import { createScenario, dropScenario, peakRssMb, rssMb, settle, startWorker, stopWorker, upload, type Scenario } from './harness.js';

const FILES = Number(process.env.RELIABILITY_LOAD_FILES ?? 2000);
let scenario: Scenario | undefined;

after(async () => {
  if (scenario) await dropScenario(scenario);
});

test(`load: ${FILES} mixed files and three multi-megabyte ones, two workers`, { timeout: 25 * 60_000 }, async () => {
  // Two workers share this machine's two cores: one onnxruntime thread each, as the chart sets
  // EMBEDDING_THREADS to a pod's CPUs (two processes each using every core run 20–30% slower).
  scenario = await createScenario('load', { notify: true, env: { WORKER_CONCURRENCY: '4', EMBEDDING_THREADS: '1' } });
  const corpus = await buildCorpus({ files: FILES, seed: 2026, prefix: 'load', bigFiles: true });
  const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  const expected = await expectedOutcomes(corpus, settings, embedder);
  await embedder.dispose();
  assert.ok([...expected.values()].every((e) => e.outcome === 'indexed'), 'the load corpus is all valid input');

  const started = Date.now();
  const workers = [startWorker(scenario), startWorker(scenario)];
  await upload(scenario, corpus, 8, { maxBacklog: 50 });
  const rss: number[] = [];
  const sampler = setInterval(() => {
    for (const worker of workers) {
      const mb = rssMb(worker.child.pid);
      if (mb !== undefined) rss.push(mb);
    }
  }, 1000);
  try {
    await settle(scenario, 22 * 60_000);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (Date.now() - started) / 1000;
  const peaks = workers.map((worker) => peakRssMb(worker.child.pid) ?? 0);
  // The workers have exited (and their output is read to the end); account() refreshes the index.
  for (const worker of workers) assert.equal(await stopWorker(worker), 0, worker.output().slice(-2000));

  const tally = await account({ scenario: 'load', bucket: scenario.bucket, index: scenario.index, deadLetterUrl: scenario.deadLetterUrl, expected });
  const sorted = [...rss].sort((a, b) => a - b);
  process.stdout.write(
    `# load: ${corpus.length} files, ${tally.chunks} chunks in ${seconds.toFixed(0)} s with 2 workers ` +
      `(${(corpus.length / seconds).toFixed(1)} files/s, ${(tally.chunks / seconds).toFixed(0)} chunks/s); ` +
      `worker RSS peak ${Math.max(...peaks)} MB, median ${sorted[Math.floor(sorted.length / 2)] ?? 0} MB\n`,
  );
  assertBalanced(tally);
});
