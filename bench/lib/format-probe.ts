// One format's conversion, alone in a fresh process (bench/formats.ts starts one per format, so
// each format's peak RSS is its own): converts the given files on this thread, round after round,
// until at least the given CPU seconds have passed, and prints one JSON line.
//   node --import tsx bench/lib/format-probe.ts <min cpu seconds> <file…>
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { convert, DEFAULT_CONVERT_LIMITS } from '../../app/src/convert/index.js';

export interface ProbeResult {
  readonly files: number;
  /** Bytes of one round (every file once). */
  readonly bytes: number;
  /** Pages (PDF pages, slides) of one round; 0 for formats without pages. */
  readonly pages: number;
  readonly rounds: number;
  /** User and system CPU of the process over the timed rounds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  /** RSS once the converter modules are imported, before any file is converted. */
  readonly idleMb: number;
  /** Peak RSS of the process (VmHWM), converter loads and all rounds included. */
  readonly peakMb: number;
}

const statusMb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

const [minSeconds = '2', ...paths] = process.argv.slice(2);
const files = paths.map((file) => ({ name: path.basename(file), bytes: new Uint8Array(readFileSync(file)) }));
const limits = { ...DEFAULT_CONVERT_LIMITS };
const idleMb = statusMb('VmRSS');

let pages = 0;
// A warm-up round: each converter loads on its first file, which a worker pays once.
for (const file of files) pages += (await convert(file.bytes, file.name, limits)).pages?.length ?? 0;

const cpuStart = process.cpuUsage();
const wallStart = performance.now();
const cpuSecondsSince = () => {
  const cpu = process.cpuUsage(cpuStart);
  return (cpu.user + cpu.system) / 1e6;
};
let rounds = 0;
do {
  for (const file of files) await convert(file.bytes, file.name, limits);
  rounds++;
} while (cpuSecondsSince() < Number(minSeconds));
const cpuSeconds = cpuSecondsSince();

const result: ProbeResult = {
  files: files.length,
  bytes: files.reduce((sum, file) => sum + file.bytes.length, 0),
  pages,
  rounds,
  cpuSeconds,
  wallSeconds: (performance.now() - wallStart) / 1000,
  idleMb,
  peakMb: statusMb('VmHWM'),
};
console.log(JSON.stringify(result));
