// The ledger's attribution rules (stage-cpu.ts), driven by clocks the test advances, and once with
// the real clocks to show the main-thread clock is read at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMetrics } from './metrics.js';
import { StageCpuLedger } from './stage-cpu.js';

/** Two fake clocks in nanoseconds: the main thread's and the whole process's (which includes it). */
function fakeClocks() {
  const clock = { main: 0, process: 0 };
  const spend = (mainNs: number, otherThreadsNs = 0) => {
    clock.main += mainNs;
    clock.process += mainNs + otherThreadsNs;
  };
  return { clock, spend, ledger: new StageCpuLedger(() => clock.main, () => clock.process) };
}

test('a synchronous stage gets the main thread; other threads go to other when no model call runs', () => {
  const { ledger, spend } = fakeClocks();
  ledger.sync('split', () => {
    spend(2e9, 1e9);
  });
  const seconds = ledger.seconds();
  assert.equal(seconds.split, 2);
  assert.equal(seconds.other, 1);
});

test('a section nested in one of the same stage reads no clock and changes no figure', () => {
  const { clock, spend } = fakeClocks();
  let reads = 0;
  const ledger = new StageCpuLedger(
    () => {
      reads++;
      return clock.main;
    },
    () => clock.process,
  );
  const readsBefore = reads;
  ledger.sync('request', () => {
    spend(1e9);
    for (let line = 0; line < 3; line++) ledger.sync('request', () => { spend(1e9); });
  });
  assert.equal(reads - readsBefore, 2, 'one read entering the outer section, one leaving it');
  assert.equal(ledger.seconds().request, 4);
  // A different stage nested inside still gets its own boundaries.
  ledger.sync('request', () => {
    spend(1e9);
    ledger.sync('split', () => { spend(2e9); });
  });
  assert.equal(ledger.seconds().request, 5);
  assert.equal(ledger.seconds().split, 2);
});

test('a model call gets the other threads; the main thread only inside its embed sections', async () => {
  const { ledger, spend } = fakeClocks();
  await ledger.model(() => {
    ledger.sync('embed', () => {
      spend(1e9, 3e9);
    });
    ledger.sync('request', () => {
      spend(0.5e9, 1e9);
    });
    spend(2e9);
    return Promise.resolve();
  });
  const seconds = ledger.seconds();
  assert.equal(seconds.embed, 5);
  assert.equal(seconds.request, 0.5);
  assert.equal(seconds.other, 2);
});

test('open asynchronous stages share the main thread equally; idle time is other', async () => {
  const { ledger, spend } = fakeClocks();
  let finishConvert: () => void = () => undefined;
  const convert = ledger.measure('convert', () => new Promise<void>((resolve) => (finishConvert = resolve)));
  spend(1e9);
  const write = ledger.measure('write', () => {
    spend(2e9);
    return Promise.resolve();
  });
  await write;
  finishConvert();
  await convert;
  spend(4e9);
  const seconds = ledger.seconds();
  assert.equal(seconds.convert, 2);
  assert.equal(seconds.write, 1);
  assert.equal(seconds.other, 4);
});

test('with the real clocks, work in a stage is counted there and the counter reports it', async () => {
  const ledger = new StageCpuLedger();
  ledger.sync('split', () => {
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += Math.sqrt(i);
    return x;
  });
  assert.ok(ledger.seconds().split > 0);
  const metrics = createMetrics({ defaultMetrics: false, ledger });
  const exposition = await metrics.registry.metrics();
  const split = /^keda_indexer_stage_cpu_seconds_total\{stage="split"\} (\S+)$/m.exec(exposition);
  assert.ok(split && Number(split[1]) > 0, exposition);
  assert.match(exposition, /^keda_indexer_stage_cpu_seconds_total\{stage="embed"\} 0$/m);
});
