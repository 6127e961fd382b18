// The embed-only reference of the isolated end-to-end figure, in a process of its own so that it
// can be pinned to the worker's cores (taskset) with the worker's thread settings: the embed stage
// as the worker builds it, fed the chunks the worker will embed. Prints one JSON line.
//   node --import tsx bench/lib/embed-only.ts <modelDir> <chunks.json> <batchTokens>
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../app/src/config/config.js';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import type { BenchChunk } from './chunks.js';
import { runStage } from './embed.js';

const [modelDir, chunksFile, batchTokens] = process.argv.slice(2) as [string, string, string];
const chunks = JSON.parse(readFileSync(chunksFile, 'utf8')) as BenchChunk[];
// The worker's embedding settings (EMBEDDING_THREADS, EMBEDDING_DTYPE…) from the same environment.
const { embedding } = loadConfig();
const stage = await createEmbedder({ model: modelDir, device: 'cpu', dtype: embedding.dtype, threads: embedding.threads, reuseTokenIds: false, logger: silentLogger() });
// First calls allocate onnxruntime's arenas: warm up as the worker's startup probe and first files do.
await runStage(stage, chunks.slice(0, 64), Number(batchTokens));
const before = process.cpuUsage();
const run = await runStage(stage, chunks, Number(batchTokens));
const used = process.cpuUsage(before);
console.log(JSON.stringify({ chunksPerSecond: run.chunks / run.seconds, seconds: run.seconds, cpuSeconds: (used.user + used.system) / 1e6 }));
await stage.dispose();
