// One OCR measurement, alone in a fresh process (bench/ocr.ts starts one per row, so each row's
// peak RSS is its own), printing one JSON line:
//   node --import tsx bench/lib/ocr-probe.ts images <min cpu seconds>   the OCR pages as JPEG files
//   node --import tsx bench/lib/ocr-probe.ts pdf <min cpu seconds>      the same pages as a scanned PDF
//   node --import tsx bench/lib/ocr-probe.ts blank <pages>              a scanned PDF of blank pages
// "images" and "pdf" convert round after round (after a warm-up round, which starts the engine)
// until the CPU seconds have passed, and give each page's character error rate against its text.
// "blank" reads every page (OCR_MAX_PAGES = pages): rendered at OCR_DPI, none reaches the engine,
// so its peak RSS over its RSS before the pages is what rendering keeps (docs/benchmarks.md, "OCR:
// memory per page").
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { convert, DEFAULT_CONVERT_LIMITS } from '../../app/src/convert/index.js';
import { stopOcrEngines } from '../../app/src/convert/ocr/engine.js';
import { ConversionError, type Converted } from '../../app/src/convert/types.js';
import { characterErrorRate, scannedPdf } from '../../test/fixtures/scans.js';

export interface OcrProbeResult {
  readonly pages: number;
  readonly rounds: number;
  /** User and system CPU of the process (every thread: the engine's too) over the timed rounds. */
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  /** Each page's character error rate, from the warm-up round; empty for blank pages. */
  readonly cer: readonly number[];
  /** RSS once the modules are imported, before any page is read ("blank": after a two-page warm-up). */
  readonly idleMb: number;
  /** Peak RSS of the process (VmHWM). */
  readonly peakMb: number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The OCR fixtures: test/fixtures/ocr/page-N.jpg, with the text each shows in page-N.txt. */
export const OCR_PAGES = [1, 2, 3, 4].map((n) => ({
  jpeg: new Uint8Array(readFileSync(path.join(root, 'test', 'fixtures', 'ocr', `page-${n}.jpg`))),
  text: readFileSync(path.join(root, 'test', 'fixtures', 'ocr', `page-${n}.txt`), 'utf8'),
}));

const statusMb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

/** Each page's text, by the converted file's page starts. */
function pageTexts(converted: Converted): string[] {
  const starts = converted.pages ?? [{ page: 1, offset: 0 }];
  return starts.map((start, index) => converted.text.slice(start.offset, starts[index + 1]?.offset ?? converted.text.length));
}

async function main(): Promise<void> {
  const [mode = 'images', amount = '2'] = process.argv.slice(2);
  if (mode === 'blank') {
    const pages = Number(amount);
    const limits = { ...DEFAULT_CONVERT_LIMITS, maxMillis: 3_600_000, ocrMaxPages: pages, ocrMaxMillis: 3_600_000 };
    const blankPdf = (count: number) => convert(scannedPdf(Array.from({ length: count }, () => ({}))), 'blank.pdf', limits).catch((error: unknown) => error);
    // Two pages first, so that pdf.js and the canvas are loaded; then the peak is reset (Linux:
    // writing 5 to clear_refs), so that it measures what the pages themselves keep.
    await blankPdf(2);
    writeFileSync('/proc/self/clear_refs', '5');
    const idleMb = statusMb('VmRSS');
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    const outcome = await blankPdf(pages);
    if (!(outcome instanceof ConversionError && outcome.reason === 'no_text')) throw new Error(`blank pages gave ${String(outcome)}`);
    const cpu = process.cpuUsage(cpuStart);
    print({ pages, rounds: 1, cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: (performance.now() - wallStart) / 1000, cer: [], idleMb, peakMb: statusMb('VmHWM') });
    return;
  }
  const idleMb = statusMb('VmRSS');
  const files = mode === 'pdf'
    ? [{ name: 'scans.pdf', bytes: scannedPdf(OCR_PAGES.map((page) => ({ jpeg: page.jpeg }))) }]
    : OCR_PAGES.map((page, index) => ({ name: `page-${index + 1}.jpg`, bytes: page.jpeg }));
  const limits = { ...DEFAULT_CONVERT_LIMITS };
  // The warm-up round starts the engine (a worker pays it once per converter process) and gives the texts.
  const texts: string[] = [];
  for (const file of files) texts.push(...pageTexts(await convert(file.bytes, file.name, limits)));
  if (texts.length !== OCR_PAGES.length) throw new Error(`${mode}: ${texts.length} pages read of ${OCR_PAGES.length}`);
  const cer = OCR_PAGES.map((page, index) => characterErrorRate(page.text, texts[index] ?? ''));

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
  } while (cpuSecondsSince() < Number(amount));
  print({ pages: OCR_PAGES.length, rounds, cpuSeconds: cpuSecondsSince(), wallSeconds: (performance.now() - wallStart) / 1000, cer, idleMb, peakMb: statusMb('VmHWM') });
}

function print(result: OcrProbeResult): void {
  console.log(JSON.stringify(result));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
  await stopOcrEngines();
}
