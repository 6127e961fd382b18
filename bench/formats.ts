// `npm run bench -- --formats` (also run by the full `npm run bench`, and as `npm run bench:formats`):
// conversion speed and memory per format, on every file of test/fixtures/formats/ present at run
// time (so a format added with its fixture is measured without touching this file). Files are
// grouped by the format detection gives them; each format runs in a fresh process
// (bench/lib/format-probe.ts) that converts its files on one thread, round after round, for a few
// CPU seconds. Prints the table, writes bench/results/<date>-formats.json and .md, and (unless
// --quick) rewrites the "formats" section of docs/benchmarks.md. No services, no model.
//
//   node --import tsx bench/formats.ts [--quick]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectFormat } from '../app/src/convert/detect.js';
import type { ProbeResult } from './lib/format-probe.js';
import { updateDocs, writeResults } from './lib/report.js';
import { round } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
/** CPU seconds each format converts for; enough rounds that a file's first-call costs wash out. */
const cpuSeconds = quick ? 0.5 : 3;
const folder = path.join(root, 'test', 'fixtures', 'formats');

/** What in the fixtures folder is not a fixture: facts, notes, generators. */
const isFixture = (name: string) => !name.endsWith('.fact.json') && !['README.md', 'generated-by.md'].includes(name) && !name.startsWith('generate-');

const byFormat = new Map<string, { name: string; files: string[] }>();
for (const name of readdirSync(folder).filter(isFixture).sort()) {
  const file = path.join(folder, name);
  const format = await detectFormat(new Uint8Array(readFileSync(file)), name);
  const entry = byFormat.get(format.type) ?? { name: format.name, files: [] };
  entry.files.push(file);
  byFormat.set(format.type, entry);
}

const log = (message: string) => console.error(`[formats] ${message}`);
const rows: ({ type: string; name: string } & ProbeResult)[] = [];
for (const [type, { name, files }] of byFormat) {
  const output = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'lib', 'format-probe.ts'), String(cpuSeconds), ...files], { cwd: root, encoding: 'utf8' });
  const probe = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as ProbeResult;
  rows.push({ type, name, ...probe });
  log(`${type}: ${probe.files} file(s), ${probe.rounds} rounds in ${probe.cpuSeconds.toFixed(1)} CPU s, peak ${probe.peakMb.toFixed(0)} MB`);
}

const perCpu = (amount: number, row: ProbeResult) => (amount * row.rounds) / row.cpuSeconds;
const results = {
  date: new Date().toISOString(),
  command: `npm run bench -- --formats${quick ? ' --quick' : ''}`,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadAverage: os.loadavg().map((load) => round(load, 2)), node: process.version },
  cpuSecondsPerFormat: cpuSeconds,
  formats: rows.map((row) => ({
    ...row,
    megabytesPerCpuSecond: round(perCpu(row.bytes, row) / 1e6, 3),
    filesPerCpuSecond: round(perCpu(row.files, row), 1),
    pagesPerCpuSecond: row.pages > 0 ? round(perCpu(row.pages, row), 1) : null,
  })),
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10_240 ? 1 : 0)} KB`;
const markdown = [
  `Conversion alone (detect, convert, control characters stripped), on one thread, per format, over the files of ` +
    `test/fixtures/formats/ at run time; each format in a fresh process for ${cpuSeconds} CPU seconds after a warm-up ` +
    `round. Rates are per CPU second of the process (user + system, GC threads included), so per core. Peak RSS is ` +
    `the process's VmHWM (Node, tsx and the converter modules included); "above idle" subtracts its RSS before the ` +
    `first conversion. The fixtures are small files: per-file costs dominate, so MB/s is a floor for large files. ` +
    `${results.machine.cpus} cores (${results.machine.model}), load ${results.machine.loadAverage.join(' / ')} at the end, Node ${process.version}.`,
  '',
  '| format | files | bytes per round | files/s per core | MB/s per core | pages/s per core | peak RSS, MB | above idle, MB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...results.formats.map((row) =>
    `| ${row.name} | ${row.files} | ${kb(row.bytes)} | ${row.filesPerCpuSecond} | ${row.megabytesPerCpuSecond.toFixed(2)} | ${row.pagesPerCpuSecond ?? '–'} | ${row.peakMb.toFixed(0)} | ${(row.peakMb - row.idleMb).toFixed(0)} |`),
  '',
].join('\n');
const base = `${results.date.slice(0, 10)}-formats${quick ? '-quick' : ''}`;
writeResults(root, base, results, markdown);
if (!quick) updateDocs(path.join(root, 'docs', 'benchmarks.md'), markdown, base, { name: 'formats', command: 'npm run bench -- --formats', lead: 'Latest run' });
console.log(markdown);
log(`wrote bench/results/${base}.json and .md${quick ? '' : '; updated docs/benchmarks.md'}`);
