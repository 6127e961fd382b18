// `npm run bench:sandbox`: what converting in the sandbox's processes (app/src/convert/sandbox.ts)
// costs over converting in the calling process, per file, for small and large files of each format,
// measured in the same run (alternating, so a busy machine slows both alike). Prints a table:
// median milliseconds per file each way, their difference and ratio, and what starting a process
// costs once. No services, no model.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert } from '../app/src/convert/index.js';
import { ConvertSandbox, type SandboxLimits } from '../app/src/convert/sandbox.js';
import { DEFAULT_CONVERT_LIMITS } from '../app/src/convert/types.js';
import { makeDocx, makePdf } from '../test/fixtures/documents.js';
import { prose, seededRandom } from '../test/reliability/corpus.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const root = fileURLToPath(new URL('..', import.meta.url));
const limits: SandboxLimits = { ...DEFAULT_CONVERT_LIMITS, maxHeapMb: 384, maxMemoryMb: 640, maxChars: 10_000_000 };
const random = seededRandom(7);
const example = (name: string) => new Uint8Array(readFileSync(path.join(root, 'examples', name)));

const files: { label: string; name: string; bytes: Uint8Array }[] = [
  { label: 'txt, 1 KB', name: 'a.txt', bytes: new TextEncoder().encode(prose(random, 170)) },
  { label: 'txt, 1 MB', name: 'b.txt', bytes: new TextEncoder().encode(Array.from({ length: 1000 }, () => prose(random, 170)).join('\n\n')) },
  { label: 'html (example)', name: 'tide-pools.html', bytes: example('tide-pools.html') },
  { label: 'docx (example)', name: 'honey-bees.docx', bytes: example('honey-bees.docx') },
  { label: 'docx, 200 paragraphs', name: 'c.docx', bytes: await makeDocx([{ paragraphs: Array.from({ length: 200 }, () => prose(random, 60)) }]) },
  { label: 'pdf (example)', name: 'bicycle-history.pdf', bytes: example('bicycle-history.pdf') },
  { label: 'pdf, 100 pages', name: 'd.pdf', bytes: await makePdf(Array.from({ length: 100 }, () => prose(random, 250))) },
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

// A process's start: its first file pays for the process and its module loads.
const fresh = new ConvertSandbox({ processes: 1, limits });
const first = files[0];
if (first === undefined) throw new Error('no files');
const startMs = await timed(() => fresh.convert(first.bytes, first.name));
await fresh.close();

const sandbox = new ConvertSandbox({ processes: 1, limits });
const rows: string[] = [];
for (const file of files) {
  // Warm both ways first: converters load on their first file, in each process.
  await convert(file.bytes, file.name, limits);
  await sandbox.convert(file.bytes, file.name);
  const inline: number[] = [];
  const sandboxed: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    inline.push(await timed(() => convert(file.bytes, file.name, limits)));
    sandboxed.push(await timed(() => sandbox.convert(file.bytes, file.name)));
  }
  const a = median(inline);
  const b = median(sandboxed);
  rows.push(`| ${file.label} | ${(file.bytes.length / 1024).toFixed(0)} KB | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b - a).toFixed(1)} | ${(b / a).toFixed(2)} |`);
}
await sandbox.close();

console.log(`Converter sandbox, ${ROUNDS} rounds per file (median ms per file; Node ${process.version})\n`);
console.log('| file | size | in process | sandbox | difference | ratio |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
console.log(`\nA new process's first file (start, module loads, converter load): ${startMs.toFixed(0)} ms, once per process.`);
