// Memory probe, one fresh process per configuration: peak RSS of the embed stage after embedding
// a corpus sample with a given token budget, dtype and CPU arena setting. Prints one JSON line.
//   node --import tsx bench/lib/rss-probe.ts <modelDir> <batchTokens> <fp32|q8> <arena on|off>
import { readFileSync } from 'node:fs';
import { buildManifest, loadCorpus } from './corpus.js';
import { corpusChunks, stratifiedSample } from './chunks.js';
import { loadStage, loadVariant, runStage } from './embed.js';

const [modelDir, budget, dtype, arena] = process.argv.slice(2) as [string, string, 'fp32' | 'q8', string];
const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const counter = await loadStage(modelDir);
const root = new URL('../..', import.meta.url).pathname;
const chunks = stratifiedSample(corpusChunks(loadCorpus(root, buildManifest(root)), (t) => counter.countTokens(t), 256), 192);
await counter.dispose();
const stage = await loadVariant(modelDir, { dtype, sessionOptions: { enableCpuMemArena: arena === 'on' } });
const loaded = mb('VmRSS');
const run = await runStage(stage, chunks, Number(budget));
console.log(JSON.stringify({ budget: Number(budget), dtype, arena, loadedMb: loaded, afterMb: mb('VmRSS'), peakMb: mb('VmHWM'), chunksPerSecond: run.chunks / run.seconds }));
