// Every metric the chart's Grafana dashboard relies on (test/chart/worker-metrics.txt, checked
// against the dashboard by test/chart/dashboard_metrics.py) is one the worker really exports,
// with the same type.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createMetrics } from './metrics.js';

test('the worker exports every metric the dashboard queries, with its type', async () => {
  const listed = readFileSync(new URL('../../../test/chart/worker-metrics.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.trim().split(/\s+/) as [string, string]);
  assert.ok(listed.length >= 10);
  const exposition = await createMetrics().registry.metrics();
  for (const [name, type] of listed) {
    assert.match(exposition, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} (${type}) is not exported`);
  }
});
