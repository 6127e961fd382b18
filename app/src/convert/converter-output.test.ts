import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../observe/logger.js';
import { ConverterOutputLog, LineSplitter, MAX_OUTPUT_LINE_CHARS, MAX_OUTPUT_LINES_PER_FILE } from './converter-output.js';

/** A logger whose lines are parsed as they are written (pino writes one line per call, synchronously here). */
function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

test('a line of output is a JSON line with the file, its format and the process, at the level it was said', () => {
  const { logger, lines } = capture();
  const output = new ConverterOutputLog(logger, 4242);
  output.begin({ file: 's3://docs/scan.tif' });
  output.formatIs('tiff');
  output.line('info', 'console', 'decoding tiles');
  output.line('warn', 'stderr', 'Warning: bad XRef entry');
  assert.deepEqual(
    lines.map(({ level, file, format, converterPid, stream, output: said, msg }) => ({ level, file, format, converterPid, stream, output: said, msg })),
    [
      { level: 30, file: 's3://docs/scan.tif', format: 'tiff', converterPid: 4242, stream: 'console', output: 'decoding tiles', msg: 'converter output' },
      { level: 40, file: 's3://docs/scan.tif', format: 'tiff', converterPid: 4242, stream: 'stderr', output: 'Warning: bad XRef entry', msg: 'converter output' },
    ],
  );
});

test('a flood is capped per file: distinct lines up to the budget, repeats and the rest counted in one line', () => {
  const { logger, lines } = capture();
  const output = new ConverterOutputLog(logger, 7);
  output.begin({ file: 'flood.pdf' });
  for (let i = 0; i < 500; i++) output.line('warn', 'console', `Warning: object ${i % 100} is broken`);
  output.flush();
  const said = lines.filter((line) => line.msg === 'converter output');
  assert.equal(said.length, MAX_OUTPUT_LINES_PER_FILE);
  const summary = lines.find((line) => line.msg === 'converter output lines left out of the log');
  assert.ok(summary, JSON.stringify(lines.at(-1)));
  assert.equal(summary.droppedLines, 500 - MAX_OUTPUT_LINES_PER_FILE);
  // The 20 lines logged came back 4 times each; the other 80 distinct lines, 5 times each, were over the budget.
  assert.equal(summary.repeatedLines, 80);
  assert.equal(summary.linesOverBudget, 400);
  assert.equal(summary.file, 'flood.pdf');
  // Nothing left to report: a second flush says nothing, and the next file starts a fresh budget.
  output.flush();
  assert.equal(lines.filter((line) => line.msg === 'converter output lines left out of the log').length, 1);
  output.begin({ file: 'next.pdf' });
  output.line('warn', 'console', 'Warning: object 1 is broken');
  assert.equal(lines.at(-1)?.file, 'next.pdf');
});

test('what is said is made printable and cut: no escape sequence or forged line reaches the log', () => {
  const { logger, lines } = capture();
  const output = new ConverterOutputLog(logger, undefined);
  output.begin({ file: 'evil\nname.html' });
  output.line('warn', 'stderr', '\u001b]52;c;cGF5bG9hZA==\u0007 clipboard');
  output.line('warn', 'stderr', 'x'.repeat(MAX_OUTPUT_LINE_CHARS * 3));
  const [escaped, cut] = lines;
  assert.ok(escaped && cut, JSON.stringify(lines));
  assert.equal(escaped.output, '\\u001b]52;c;cGF5bG9hZA==\\u0007 clipboard');
  assert.equal(escaped.file, 'evil\\u000aname.html');
  assert.equal(escaped.converterPid, undefined);
  assert.equal((cut.output as string).length, MAX_OUTPUT_LINE_CHARS);
  assert.equal(cut.chars, MAX_OUTPUT_LINE_CHARS * 3);
});

test('streams are cut into lines across chunks, and a line without end is passed on in pieces', () => {
  const seen: string[] = [];
  const splitter = new LineSplitter((line) => seen.push(line), 10);
  splitter.write('first li');
  splitter.write('ne\r\nsecond\nthi');
  splitter.write('rd line without a newline for a while');
  splitter.end();
  assert.deepEqual(seen, ['first line', 'second', 'third line', ' without a', ' newline f', 'or a while']);
});
