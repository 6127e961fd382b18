import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createLogger, logProcessWarnings } from './logger.js';

function capture() {
  const destination = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  destination.on('data', (chunk: Buffer) => {
    for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

const nextWarning = () => new Promise<void>((resolve) => process.once('warning', () => setImmediate(resolve)));

test("a process warning becomes one JSON log line, in place of Node's printer", async () => {
  const printers = process.listeners('warning');
  const [printer] = printers;
  assert.ok(printer !== undefined && printers.length === 1, "Node's own printer is the one listener at the start");
  const { logger, lines } = capture();
  const restore = logProcessWarnings(logger);
  try {
    assert.ok(!process.listeners('warning').includes(printer), "Node's printer is no longer called");
    const seen = nextWarning();
    process.emitWarning('the SDK will need a newer Node\nsecond line of the notice', { type: 'NodeVersionSupportWarning', code: 'KI_TEST' });
    await seen;
    const line = lines.find((entry) => entry.warning === 'NodeVersionSupportWarning');
    assert.ok(line, `no warning line in ${JSON.stringify(lines)}`);
    assert.equal(line.level, 40);
    assert.equal(line.code, 'KI_TEST');
    assert.equal(line.msg, 'the SDK will need a newer Node\nsecond line of the notice');
  } finally {
    restore();
  }
  assert.deepEqual(process.listeners('warning'), printers, "restore puts Node's printer back");
});

test('with warnings turned off (no printer installed), none are logged', async () => {
  const printers = process.listeners('warning');
  for (const printer of printers) process.off('warning', printer);
  const { logger, lines } = capture();
  const restore = logProcessWarnings(logger);
  try {
    const seen = nextWarning();
    process.emitWarning('quiet please', 'TestWarning');
    await seen;
    assert.equal(lines.length, 0);
  } finally {
    restore();
    for (const printer of printers) process.on('warning', printer);
  }
});
