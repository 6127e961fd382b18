// The converter threads, with real converters on hostile files made here: a runaway conversion
// costs one file its reason, never the process, and the main thread runs on meanwhile.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { makePdf } from '../../../test/fixtures/documents.js';
import { tiledTiff } from '../../../test/fixtures/tiled-tiff.js';
import { docxOfEmptyRuns, pdfStreamBomb, pdfXObjectFanOut } from '../../../test/fixtures/hostile.js';
import { convert } from './index.js';
import { createLogger, type Logger } from '../observe/logger.js';
import { MAX_OUTPUT_LINES_PER_FILE } from './converter-output.js';
import { ConvertSandbox, converterFlags, type SandboxLimits } from './sandbox.js';
import { loadConfig } from '../config/config.js';
import { DEFAULT_CONVERT_LIMITS } from './types.js';
import { conversionFailure as failure } from '../../../test/support/conversion.js';

const LIMITS: SandboxLimits = { ...DEFAULT_CONVERT_LIMITS, maxHeapMb: 256, maxMemoryMb: 1024, maxChars: 1_000_000 };
const sandboxes: ConvertSandbox[] = [];
function sandbox(limits: Partial<SandboxLimits> = {}, threads = 1, logger?: Logger): ConvertSandbox {
  const made = new ConvertSandbox({ processes: threads, limits: { ...LIMITS, ...limits }, ...(logger === undefined ? {} : { logger }) });
  sandboxes.push(made);
  return made;
}
after(async () => {
  await Promise.all(sandboxes.map((made) => made.close()));
});

const text = (value: string) => new TextEncoder().encode(value);

/** A logger whose JSON lines are parsed as they are written. */
function capturedLog(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** This process's peak resident memory (VmHWM), in MB, where /proc tells it. */
const peakRssMb = (): number | undefined => {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
};

test("the image's compile cache is filled for the converters' V8 flags at the default heap", () => {
  // Node keys compile cache folders by V8 flags: flags that drift apart leave converters uncached.
  const script = readFileSync(new URL('../../../scripts/compile-cache.js', import.meta.url), 'utf8');
  const declared = /CONVERTER_FLAGS = (\[[^\]]*\])/.exec(script)?.[1];
  assert.ok(declared, 'scripts/compile-cache.js declares CONVERTER_FLAGS');
  assert.deepEqual(JSON.parse(declared.replaceAll("'", '"')), converterFlags(loadConfig({ env: {} }).convert.maxHeapMb));
});

describe('the converter sandbox', () => {
  test('converts as the converters do in the calling process, pages included', async () => {
    const pool = sandbox();
    const html = text('<html><body><h1>Kelp</h1><p>Kelp forests shelter sea otters.</p></body></html>');
    assert.deepEqual(await pool.convert(html, 'kelp.html'), await convert(html, 'kelp.html', LIMITS));
    const pdf = await makePdf(['Page one is about tides.', 'Page two is about kelp.']);
    const fromThread = await pool.convert(pdf, 'tides.pdf');
    assert.deepEqual(fromThread, await convert(pdf, 'tides.pdf', LIMITS));
    assert.equal(fromThread.pages?.length, 2);
  });

  test('an exception inside a converter is a permanent corrupt, with what the converter said', async () => {
    // html-to-text numbers a Roman list by a table that ends at the thousands: a list that
    // starts at 10^15 makes it throw a TypeError. (Deep nesting, which overflowed its stack, is now
    // refused before parsing: convert/nesting.ts.)
    const roman = text('<html><body><ol type="i" start="1000000000000000"><li>item</li></ol></body></html>');
    const error = await failure(sandbox().convert(roman, 'roman.html'));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /TypeError/);
  });

  test('a conversion past its deadline is ended as timeout, and the main thread runs on meanwhile', async () => {
    const pool = sandbox({ maxMillis: 1_000 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      // 2.7 KB of form XObjects that draw each other ten times per level, nine levels deep: pdf.js
      // walks all 10^9 drawings for the page's text, inside one call.
      const error = await failure(pool.convert(pdfXObjectFanOut(), 'fan-out.pdf'));
      assert.equal(error.reason, 'timeout');
      assert.match(error.message, /CONVERT_MAX_SECONDS=1\b/);
    } finally {
      clearInterval(ticker);
    }
    // On the main thread the parse would hold the event loop the whole time: no tick at all.
    assert.ok(ticks >= 10, `the main thread ticked ${ticks} times during the conversion`);
    const after = await pool.convert(text('still converting after a timeout'), 'next.txt');
    assert.equal(after.text, 'still converting after a timeout');
  });

  test('a conversion over the heap limit is too_large, and the pool goes on with a new process', async () => {
    // The ratio cap would refuse this file before it reaches the heap; off here, so the heap is what stops it.
    const pool = sandbox({ maxHeapMb: 64, maxInflateRatio: 100_000 });
    const bomb = await docxOfEmptyRuns(20);
    assert.ok(bomb.length < 200 * 1024, `the docx is small (${bomb.length} bytes)`);
    const error = await failure(pool.convert(bomb, 'runs.docx'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /CONVERT_MAX_HEAP_MB=64/);
    assert.equal((await pool.convert(text('next file'), 'next.txt')).text, 'next file');
  });

  test('memory outside the heap counts: a PDF stream that inflates past the memory limit is too_large', async () => {
    // 1.5 MB of PDF whose one content stream inflates to 1.5 GB: pdf.js holds it in an
    // ArrayBuffer, outside any V8 heap limit, so only the process's resident memory shows it.
    const pool = sandbox({ maxMemoryMb: 400, maxMillis: 120_000 });
    const error = await failure(pool.convert(await pdfStreamBomb(1500), 'stream-bomb.pdf'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /CONVERT_MAX_MEMORY_MB=400; it reached \d+ MB/);
    assert.ok((peakRssMb() ?? 0) < 1000, `the calling process stayed small (${String(peakRssMb())} MB)`);
    assert.equal((await pool.convert(text('next file'), 'next.txt')).text, 'next file');
  });

  test('an idle pool does not keep a finished command alive', () => {
    // The converters' processes, their IPC channels and stderr pipes all hold the event loop unless
    // let go: `worker --drain` and `index` would never exit.
    const script = `
      const { ConvertSandbox } = await import(${JSON.stringify(new URL('./sandbox.ts', import.meta.url).href)});
      const { createLogger } = await import(${JSON.stringify(new URL('../observe/logger.ts', import.meta.url).href)});
      const pool = new ConvertSandbox({ processes: 2, limits: ${JSON.stringify(LIMITS)}, logger: createLogger({ level: 'info' }) });
      console.log((await pool.convert(new TextEncoder().encode('done and gone'), 'a.txt')).text);
      await pool.convert(new Uint8Array(${JSON.stringify([...tiledTiff([2])])}), 'tiles.tif').catch(() => undefined);`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.signal, null, `the command was still running after 60 s: ${run.stderr}`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'done and gone', 'the converters print nothing on the command\'s stdout');
    // And on its stderr only the logger's JSON lines, the library's line among them.
    const stderrLines = run.stderr.split('\n').filter((line) => line !== '');
    for (const line of stderrLines) assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line}`);
    assert.ok(stderrLines.some((line) => line.includes('"output":"==== 2 1"')), run.stderr);
  });

  test("what a converter's library prints reaches the worker's log as JSON lines with the file, its format and the process", async () => {
    const { logger, lines } = capturedLog();
    const error = await failure(sandbox({}, 1, logger).convert(tiledTiff([3]), 'scan.tif', 's3://docs/scans/scan.tif'));
    assert.equal(error.reason, 'no_text', 'a blank page has no text');
    const said = lines.find((line) => line.msg === 'converter output');
    assert.ok(said, `no converter output in the log: ${JSON.stringify(lines)}`);
    assert.equal(said.level, 30, 'console.log is info');
    assert.equal(said.output, '==== 3 1');
    assert.equal(said.stream, 'console');
    assert.equal(said.file, 's3://docs/scans/scan.tif');
    assert.equal(said.format, 'tiff');
    assert.equal(typeof said.converterPid, 'number');
    assert.notEqual(said.converterPid, process.pid);
  });

  test('a file that makes its library print in a loop costs the log a capped number of lines and one count', async () => {
    const { logger, lines } = capturedLog();
    const pages = 3 * MAX_OUTPUT_LINES_PER_FILE;
    const flood = tiledTiff(Array.from({ length: pages }, (_, i) => i + 1));
    const error = await failure(sandbox({ ocrMaxPages: pages }, 1, logger).convert(flood, 'flood.tif'));
    assert.equal(error.reason, 'no_text');
    const said = lines.filter((line) => line.msg === 'converter output');
    assert.equal(said.length, MAX_OUTPUT_LINES_PER_FILE);
    const summary = lines.find((line) => line.msg === 'converter output lines left out of the log');
    assert.ok(summary, JSON.stringify(lines.slice(-3)));
    assert.equal(summary.droppedLines, pages - MAX_OUTPUT_LINES_PER_FILE);
    assert.equal(summary.file, 'flood.tif');
  });

  test("a converter's stderr reaches the log too: V8's own words when the heap runs out", async () => {
    const { logger, lines } = capturedLog();
    const error = await failure(sandbox({ maxHeapMb: 64, maxInflateRatio: 100_000 }, 1, logger).convert(await docxOfEmptyRuns(20), 'runs.docx', 's3://docs/runs.docx'));
    assert.equal(error.reason, 'too_large');
    // The process is gone; its pipe is read to the end after its exit, a moment later.
    for (let wait = 0; wait < 50 && !lines.some((line) => line.stream === 'stderr'); wait++) await new Promise((resolve) => setTimeout(resolve, 100));
    const said = lines.filter((line) => line.stream === 'stderr');
    assert.ok(said.some((line) => /heap/i.test(String(line.output))), JSON.stringify(said));
    assert.ok(said.every((line) => line.level === 40 && line.file === 's3://docs/runs.docx' && line.format === 'docx'), JSON.stringify(said));
  });

  test('text over the character cap is refused as too_large, not cut', async () => {
    const error = await failure(sandbox({ maxChars: 1_000 }).convert(text('word '.repeat(400)), 'long.txt'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /2000 characters of text, more than CONVERT_MAX_CHARS=1000/);
  });

  test('files beyond the process count wait for a process, and all convert', async () => {
    const pool = sandbox({}, 2);
    const names = Array.from({ length: 7 }, (_, i) => `file ${i} of seven`);
    const converted = await Promise.all(names.map((name) => pool.convert(text(name), `${name}.txt`)));
    assert.deepEqual(
      converted.map((result) => result.text),
      names,
    );
  });
});
