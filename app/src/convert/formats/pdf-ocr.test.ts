// Scanned PDFs through OCR: the scanned page of a mixed PDF is read on its own page, and a PDF of
// 10,000 scanned pages is stopped by OCR's budget inside the sandbox, which goes on converting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { scannedPdf } from '../../../../test/fixtures/scans.js';
import { convert } from '../index.js';
import { stopOcrEngines } from '../ocr/engine.js';
import { ConvertSandbox } from '../sandbox.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from '../types.js';

const fixture = (name: string) => readFileSync(new URL(`../../../../test/fixtures/${name}`, import.meta.url));
const sandbox = new ConvertSandbox({ processes: 1, limits: { ...DEFAULT_CONVERT_LIMITS, maxPages: 20_000, maxMillis: 20_000, ocrMaxMillis: 5_000, maxHeapMb: 384, maxMemoryMb: 1024, maxChars: 1_000_000 } });
after(async () => {
  await sandbox.close();
  await stopOcrEngines();
});

describe('scanned PDF pages through OCR', () => {
  test('a PDF whose second page is a scan: its text on page 2, marked as OCR', async () => {
    const converted = await convert(fixture('formats/scanned.pdf'), 'scanned.pdf', DEFAULT_CONVERT_LIMITS);
    assert.deepEqual(converted.ocrPages?.map((page) => page.page), [2]);
    const second = converted.pages?.find((start) => start.page === 2)?.offset ?? -1;
    assert.ok(second > 0);
    assert.match(converted.text.slice(second), /crack of 35 millimetres/);
    assert.match(converted.text.slice(0, second), /Bridge inspection report/);
  });

  // In a fresh process, since this one may have loaded it already. tesseract.js is CommonJS: once
  // imported, its files are in require's cache.
  test('a PDF with a text layer does not load tesseract.js; a scanned one does', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { readFileSync } from 'node:fs';
      import { convert } from ${JSON.stringify(new URL('../index.ts', import.meta.url).href)};
      import { stopOcrEngines } from ${JSON.stringify(new URL('../ocr/engine.ts', import.meta.url).href)};
      import { DEFAULT_CONVERT_LIMITS } from ${JSON.stringify(new URL('../types.ts', import.meta.url).href)};
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes('/node_modules/tesseract.js/'));
      await convert(readFileSync(${JSON.stringify(fileURLToPath(new URL('../../../../examples/bicycle-history.pdf', import.meta.url)))}), 'text.pdf', DEFAULT_CONVERT_LIMITS);
      const afterText = loaded();
      await convert(readFileSync(${JSON.stringify(fileURLToPath(new URL('../../../../test/fixtures/formats/scanned.pdf', import.meta.url)))}), 'scanned.pdf', DEFAULT_CONVERT_LIMITS);
      console.log(JSON.stringify({ afterText, afterScan: loaded() }));
      await stopOcrEngines();`;
    // A file, not --eval: the engine's worker thread would inherit --input-type and refuse to start.
    const folder = mkdtempSync(path.join(os.tmpdir(), 'lazy-ocr-'));
    const file = path.join(folder, 'probe.mjs');
    writeFileSync(file, script);
    let output: string;
    try {
      output = execFileSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8' });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    assert.deepEqual(JSON.parse(output.trim().split('\n').at(-1) ?? '{}'), { afterText: false, afterScan: true });
  });

  test('OCR_MODE=off leaves a scanned PDF with no text, and says OCR is off', async () => {
    const scan = scannedPdf([{ jpeg: fixture('ocr/page-1.jpg') }]);
    const error = await convert(scan, 'scan.pdf', { ...DEFAULT_CONVERT_LIMITS, ocrMode: 'off' }).catch((caught: unknown) => caught);
    assert.ok(error instanceof ConversionError);
    assert.equal(error.reason, 'no_text');
    assert.match(error.message, /OCR_MODE=off/);
  });

  // 1,000 pages, not 10,000: pdf.js's text-layer pass alone takes about 13 ms a page here.
  test('1,000 scanned pages: OCR_MAX_PAGES stops it, the first page indexed, and it says so', async () => {
    const pages = [{ jpeg: fixture('ocr/page-2.jpg') }, ...Array.from({ length: 999 }, () => ({}))];
    const converted = await convert(scannedPdf(pages), 'long.pdf', { ...DEFAULT_CONVERT_LIMITS, ocrMaxPages: 50 });
    assert.match(converted.text, /allotment society/);
    assert.deepEqual(converted.ocrPages?.map((page) => page.page), [1]);
    assert.deepEqual(converted.ocrStopped, { limit: 'pages', pagesRead: 50, pagesNeedingOcr: 1_000 });
  });

  // The text pass walks every page after OCR stops at its page cap; 10,000 pages at about 13 ms
  // each (here) are far past CONVERT_MAX_SECONDS (3 s here): the pass ends there and the file is
  // indexed as far as it got, rather than dead-lettered as a timeout.
  test('10,000 scanned pages past CONVERT_MAX_SECONDS after OCR stopped: indexed as far as it got, and says where', async () => {
    const pages = [{ jpeg: fixture('ocr/page-2.jpg') }, ...Array.from({ length: 9_999 }, () => ({}))];
    const converted = await convert(scannedPdf(pages), 'scans.pdf', { ...DEFAULT_CONVERT_LIMITS, maxPages: 10_000, maxMillis: 3_000, ocrMaxPages: 2 });
    assert.match(converted.text, /allotment society/);
    assert.deepEqual(converted.ocrPages?.map((page) => page.page), [1]);
    const stopped = converted.ocrStopped;
    assert.ok(stopped !== undefined);
    assert.equal(stopped.limit, 'pages');
    assert.equal(stopped.pagesRead, 2);
    assert.ok(stopped.unreadFrom !== undefined && stopped.unreadFrom > 3 && stopped.unreadFrom < 10_000, JSON.stringify(stopped));
    assert.equal(stopped.pagesNeedingOcr, stopped.unreadFrom - 1);
  });

  // Without OCR having stopped, a text pass past its budget is still a timeout.
  test('a text pass past CONVERT_MAX_SECONDS before OCR stopped is a timeout', async () => {
    const blank = scannedPdf(Array.from({ length: 10_000 }, () => ({})));
    const error = await convert(blank, 'blank.pdf', { ...DEFAULT_CONVERT_LIMITS, maxPages: 10_000, maxMillis: 1_000, ocrMode: 'off' }).catch((caught: unknown) => caught);
    assert.ok(error instanceof ConversionError);
    assert.equal(error.reason, 'timeout');
  });

  // A page's pixels are freed natively only when the event loop turns (raster.ts): before that was
  // awaited per page, 80 blank pages at 200 dpi held about 1.2 GB more at their end (15 MB a page)
  // and passed this 1 GB cap (too_large); now the process stays near its start (about 0.5 GB).
  test('80 blank scanned pages read by OCR stay under a converter memory cap of 1 GB', async () => {
    const own = new ConvertSandbox({
      processes: 1,
      limits: { ...DEFAULT_CONVERT_LIMITS, maxMillis: 600_000, ocrMaxPages: 80, ocrMaxMillis: 600_000, maxHeapMb: 384, maxMemoryMb: 1024, maxChars: 1_000_000 },
    });
    try {
      const error = await own.convert(scannedPdf(Array.from({ length: 80 }, () => ({}))), 'blank.pdf').catch((caught: unknown) => caught);
      assert.ok(error instanceof ConversionError);
      assert.equal(error.reason, 'no_text', error.message);
    } finally {
      await own.close();
    }
  });

  // OCR's budget (5 s here) stops OCR; the text-layer pass over the other pages then meets the
  // conversion's own budget (20 s here) and ends before the sandbox's deadline (20 s + 5 s): the
  // file is indexed as far as it got, and the converter process goes on.
  test('10,000 scanned pages in the sandbox: indexed as far as it got before its deadline, and the process goes on', async () => {
    const pages = [{ jpeg: fixture('ocr/page-2.jpg') }, ...Array.from({ length: 9_999 }, () => ({}))];
    const converted = await sandbox.convert(scannedPdf(pages), 'scans.pdf');
    assert.match(converted.text, /allotment society/);
    assert.equal(converted.ocrStopped?.limit, 'seconds');
    assert.ok((converted.ocrStopped.unreadFrom ?? 0) > 1, JSON.stringify(converted.ocrStopped));
    const next = await sandbox.convert(fixture('formats/scan.jpg'), 'scan.jpg');
    assert.match(next.text, /ninety kilograms/);
  });

  // The deadline ends a converter process with SIGKILL, as close() does: the OCR engine, started
  // inside it, must end with it rather than live on beside the worker.
  test('ending a converter process ends the OCR engine with it', async () => {
    const children = () =>
      readdirSync('/proc')
        .filter((entry) => /^\d+$/.test(entry))
        .filter((pid) => {
          try {
            // State and parent pid follow the command name; a zombie (Z) is already gone.
            const [state, parent] = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.split(' ') ?? [];
            return state !== 'Z' && Number(parent) === process.pid;
          } catch {
            return false;
          }
        });
    const own = new ConvertSandbox({ processes: 1, limits: { ...DEFAULT_CONVERT_LIMITS, maxHeapMb: 384, maxMemoryMb: 1024, maxChars: 1_000_000 } });
    const before = children().length;
    await own.convert(fixture('formats/scan.jpg'), 'scan.jpg');
    assert.ok(children().length > before, 'a converter process read the image');
    await own.close();
    for (let tries = 0; tries < 240 && children().length > before; tries++) await sleep(250);
    assert.equal(children().length, before, 'the converter process and its OCR engine are gone');
  });
});
