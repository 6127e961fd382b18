// `npm run bench -- --ocr` (also run by the full `npm run bench`, and as `npm run bench:ocr`): OCR's
// speed, accuracy and memory, each row in a fresh process (bench/lib/ocr-probe.ts):
//   - the four pages of test/fixtures/ocr/ as JPEG files (the image converter: the engine decodes them);
//   - the same pages as a scanned PDF (pdf.js renders each at OCR_DPI, then the engine reads it);
//   - a peer from PyPI, RapidOCR (PP-OCRv4 on onnxruntime; bench/ocr_peer.py, in the venv bench/run
//     makes from bench/requirements-ocr.txt and names in BENCH_OCR_PYTHON), one thread;
//   - a peer, the tesseract CLI, one process per page, when it is installed (apt: tesseract-ocr);
//   - a scanned PDF of blank pages: peak RSS over the pages rendered, the figure that grew by 15 MB
//     a page before raster.ts's releaseFreedPixels.
// Pages/s per core = pages over the CPU seconds of the process (every thread, the engine's too),
// after a warm-up round that starts the engine. CER = edit distance over the reference's length.
// Prints the table, writes bench/results/<date>-ocr.json and .md, and (unless --quick) rewrites the
// "ocr" section of docs/benchmarks.md. No services, no model.
//
//   node --import tsx bench/ocr.ts [--quick]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONVERT_LIMITS } from '../app/src/convert/types.js';
import { characterErrorRate } from '../test/fixtures/scans.js';
import { OCR_PAGES, type OcrProbeResult } from './lib/ocr-probe.js';
import { updateDocs, writeResults } from './lib/report.js';
import { round } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
/** CPU seconds each OCR row reads for, after its warm-up round. */
const cpuSeconds = quick ? 2 : 10;
/** Blank pages rendered for the memory row. */
const blankPages = quick ? 30 : 100;
const log = (message: string) => console.error(`[ocr] ${message}`);

function probe(mode: string, amount: number): OcrProbeResult {
  const output = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'bench', 'lib', 'ocr-probe.ts'), mode, String(amount)], { cwd: root, encoding: 'utf8' });
  return JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as OcrProbeResult;
}

/** CPU seconds of this process's waited-for children (/proc/self/stat's cutime and cstime, in clock ticks). */
function childCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ').at(-1)?.split(' ') ?? [];
  // After the command name: state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** The tesseract CLI on the same pages, one process per page; undefined where it is not installed. */
function tesseractPeer(): (Omit<OcrProbeResult, 'idleMb' | 'peakMb'> & { version: string }) | undefined {
  const version = spawnSync('tesseract', ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ocr-peer-'));
  try {
    const files = OCR_PAGES.map((page, index) => {
      const file = path.join(dir, `page-${index + 1}.jpg`);
      writeFileSync(file, page.jpeg);
      return file;
    });
    // One thread, as the engine has: Tesseract's OpenMP threads would otherwise spin on every core.
    const env = { ...process.env, OMP_THREAD_LIMIT: '1' };
    const read = (file: string) => execFileSync('tesseract', [file, '-', '--oem', '1', '-l', 'eng'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] });
    const cer = files.map((file, index) => characterErrorRate(OCR_PAGES[index]!.text, read(file)));
    const cpuStart = childCpuSeconds();
    const wallStart = performance.now();
    let rounds = 0;
    do {
      for (const file of files) read(file);
      rounds++;
    } while (childCpuSeconds() - cpuStart < cpuSeconds);
    return {
      pages: files.length,
      rounds,
      cpuSeconds: childCpuSeconds() - cpuStart,
      wallSeconds: (performance.now() - wallStart) / 1000,
      cer,
      version: version.stdout.split('\n')[0] ?? 'tesseract',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RapidOCR on the same pages (bench/ocr_peer.py); undefined without BENCH_OCR_PYTHON (bench/run sets it). */
function rapidocrPeer(): (Omit<OcrProbeResult, 'idleMb' | 'peakMb'> & { version: string }) | undefined {
  const python = process.env.BENCH_OCR_PYTHON;
  if (python === undefined || python === '') return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ocr-rapid-'));
  try {
    const files = OCR_PAGES.map((page, index) => {
      const file = path.join(dir, `page-${index + 1}.jpg`);
      writeFileSync(file, page.jpeg);
      return file;
    });
    const output = execFileSync(python, [path.join(root, 'bench', 'ocr_peer.py'), String(cpuSeconds), ...files], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const run = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as { texts: string[]; pages: number; rounds: number; cpuSeconds: number; wallSeconds: number; version: string };
    return { pages: run.pages, rounds: run.rounds, cpuSeconds: run.cpuSeconds, wallSeconds: run.wallSeconds, version: run.version, cer: run.texts.map((text, index) => characterErrorRate(OCR_PAGES[index]!.text, text)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pagesPerCore = (row: { pages: number; rounds: number; cpuSeconds: number }) => round((row.pages * row.rounds) / row.cpuSeconds, 2);
const meanCer = (cer: readonly number[]) => cer.reduce((sum, value) => sum + value, 0) / Math.max(1, cer.length);
const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

log(`images: ${OCR_PAGES.length} JPEG pages for ${cpuSeconds} CPU s`);
const images = probe('images', cpuSeconds);
log(`scanned PDF: the same pages, rendered at ${DEFAULT_CONVERT_LIMITS.ocrDpi} dpi`);
const pdf = probe('pdf', cpuSeconds);
log('peer: RapidOCR (PyPI)');
const rapid = rapidocrPeer();
log('peer: tesseract CLI');
const peer = tesseractPeer();
log(`memory: ${blankPages} blank scanned pages`);
const blank = probe('blank', blankPages);

const results = {
  date: new Date().toISOString(),
  command: `npm run bench -- --ocr${quick ? ' --quick' : ''}`,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '', loadAverage: os.loadavg().map((load) => round(load, 2)), node: process.version },
  ocrDpi: DEFAULT_CONVERT_LIMITS.ocrDpi,
  rows: {
    images: { ...images, pagesPerCpuSecond: pagesPerCore(images), meanCer: round(meanCer(images.cer), 4) },
    pdf: { ...pdf, pagesPerCpuSecond: pagesPerCore(pdf), meanCer: round(meanCer(pdf.cer), 4) },
    peer: peer === undefined ? null : { ...peer, pagesPerCpuSecond: pagesPerCore(peer), meanCer: round(meanCer(peer.cer), 4) },
    rapidocr: rapid === undefined ? null : { ...rapid, pagesPerCpuSecond: pagesPerCore(rapid), meanCer: round(meanCer(rapid.cer), 4) },
    // An A4 page (595 × 842 points) as RGBA at OCR_DPI: what each page kept before releaseFreedPixels.
    blank: { ...blank, aboveIdleMb: round(blank.peakMb - blank.idleMb, 0), pagesPerCpuSecond: pagesPerCore(blank), pixelMb: round((Math.ceil((595 * DEFAULT_CONVERT_LIMITS.ocrDpi) / 72) * Math.ceil((842 * DEFAULT_CONVERT_LIMITS.ocrDpi) / 72) * 4) / 1048576, 1) },
  },
};
const { rows } = results;
const markdown = [
  `OCR of the four scanned pages of test/fixtures/ocr/ (test/fixtures/formats/generate-ocr.py), each row in a fresh ` +
    `process on this checkout's code: pages/s per core = pages over the process's CPU seconds (every thread, the ` +
    `engine's too) for at least ${cpuSeconds} CPU s after a warm-up round that starts the engine; CER = edit distance ` +
    `over the reference's length (whitespace runs as one space), mean of the four pages (worst page in brackets). ` +
    `Peak RSS is the process's VmHWM. ${results.machine.cpus} cores (${results.machine.model}), load ` +
    `${results.machine.loadAverage.join(' / ')} at the end, Node ${process.version}.`,
  '',
  '| what | CER | pages/s per core | peak RSS, MB |',
  '|---|---:|---:|---:|',
  `| JPEG pages (image converter; tesseract.js 7, eng best_int) | ${percent(rows.images.meanCer)} (${percent(Math.max(...rows.images.cer))}) | ${rows.images.pagesPerCpuSecond} | ${rows.images.peakMb.toFixed(0)} |`,
  `| the same pages as a scanned PDF (pdf.js render at ${results.ocrDpi} dpi, then tesseract.js) | ${percent(rows.pdf.meanCer)} (${percent(Math.max(...rows.pdf.cer))}) | ${rows.pdf.pagesPerCpuSecond} | ${rows.pdf.peakMb.toFixed(0)} |`,
  rows.rapidocr === null
    ? '| peer: RapidOCR (PyPI) | not run (BENCH_OCR_PYTHON unset: run through `npm run bench`) | | |'
    : `| peer: ${rows.rapidocr.version}, PP-OCRv4 models from its wheel, one thread | ${percent(rows.rapidocr.meanCer)} (${percent(Math.max(...rows.rapidocr.cer))}) | ${rows.rapidocr.pagesPerCpuSecond} | – |`,
  rows.peer === null
    ? '| peer: tesseract CLI | not installed here (`apt-get install tesseract-ocr`) | | |'
    : `| peer: ${rows.peer.version} CLI (\`--oem 1 -l eng\`, OMP_THREAD_LIMIT=1, the system's eng data, one process per page) | ${percent(rows.peer.meanCer)} (${percent(Math.max(...rows.peer.cer))}) | ${rows.peer.pagesPerCpuSecond} | – |`,
  '',
  `Memory per page: ${blank.pages} blank scanned pages, each rendered at ${results.ocrDpi} dpi (none reaches the engine), ` +
    `in one PDF, after a two-page PDF that loaded pdf.js and the canvas: peak RSS ${blank.peakMb.toFixed(0)} MB, ` +
    `${rows.blank.aboveIdleMb} MB above the process before the first page, so at most ${(rows.blank.aboveIdleMb / blank.pages).toFixed(1)} MB kept a page (a page's pixels are ` +
    `${(rows.blank.pixelMb).toFixed(1)} MB); ${rows.blank.pagesPerCpuSecond} pages/s per core.`,
  '',
].join('\n');
const base = `${results.date.slice(0, 10)}-ocr${quick ? '-quick' : ''}`;
writeResults(root, base, results, markdown);
if (!quick) updateDocs(path.join(root, 'docs', 'benchmarks.md'), markdown, base, { name: 'ocr', command: 'npm run bench -- --ocr', lead: 'Latest run' });
console.log(markdown);
log(`wrote bench/results/${base}.json and .md${quick ? '' : '; updated docs/benchmarks.md'}`);
