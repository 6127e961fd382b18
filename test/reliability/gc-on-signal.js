// Test-only preload for the worker in test/reliability/soak.test.ts, given through NODE_OPTIONS
// with --expose-gc (never in the image or the chart). On SIGUSR2 the worker's main thread runs a
// full garbage collection, then writes one JSON line on stderr saying so: the test waits for that
// line before it reads the heap from /metrics, so what it reads is the live heap, not whatever
// garbage the last collection happened to leave.
import process from 'node:process';
import { isMainThread } from 'node:worker_threads';

// Converter processes and the model's thread inherit NODE_OPTIONS; only the worker answers.
if (isMainThread && process.env.KEDA_INDEXER_CONVERTER_PROCESS !== '1' && typeof globalThis.gc === 'function') {
  const collect = globalThis.gc;
  let collections = 0;
  process.on('SIGUSR2', () => {
    collect();
    collections++;
    process.stderr.write(`${JSON.stringify({ level: 30, msg: 'test: full garbage collection done', collections, heapUsed: process.memoryUsage().heapUsed })}\n`);
  });
}
