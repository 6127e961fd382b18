// The Elasticsearch client keda-indexer makes: its requests open no OpenTelemetry spans unless
// OTEL_ELASTICSEARCH_ENABLED asks for them. Spans are counted by a tracer provider registered for
// the test; the requests go to a closed port (the span, when there is one, opens before sending).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { trace, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { createElasticsearchClient } from './chunks.js';

const spans: string[] = [];
const countingTracer = {
  startSpan: () => {
    throw new Error('not used by the client');
  },
  startActiveSpan: (name: string, ...rest: unknown[]) => {
    spans.push(name);
    const run = rest.at(-1) as (span: Span) => unknown;
    const span = trace.wrapSpanContext({ traceId: '0'.repeat(31) + '1', spanId: '0'.repeat(15) + '1', traceFlags: 1 });
    return run(span);
  },
} as unknown as Tracer;
const provider: TracerProvider = { getTracer: () => countingTracer };
trace.setGlobalTracerProvider(provider);
after(() => {
  trace.disable();
});

const settings = {
  url: 'http://127.0.0.1:9',
  cloudId: '',
  apiKey: '',
  username: '',
  password: '',
  caCert: '',
  requestTimeoutSeconds: 2,
} as Parameters<typeof createElasticsearchClient>[0];

async function spansOfOneRequest(): Promise<string[]> {
  spans.length = 0;
  const client = createElasticsearchClient(settings);
  await assert.rejects(client.info({}, { maxRetries: 0 }));
  await client.close();
  return [...spans];
}

test('requests open no OpenTelemetry span by default', async () => {
  const saved = process.env.OTEL_ELASTICSEARCH_ENABLED;
  delete process.env.OTEL_ELASTICSEARCH_ENABLED;
  try {
    assert.deepEqual(await spansOfOneRequest(), []);
  } finally {
    if (saved !== undefined) process.env.OTEL_ELASTICSEARCH_ENABLED = saved;
  }
});

test('OTEL_ELASTICSEARCH_ENABLED=true gives the client its spans back', async () => {
  const saved = process.env.OTEL_ELASTICSEARCH_ENABLED;
  process.env.OTEL_ELASTICSEARCH_ENABLED = 'true';
  try {
    assert.deepEqual(await spansOfOneRequest(), ['info']);
  } finally {
    if (saved === undefined) delete process.env.OTEL_ELASTICSEARCH_ENABLED;
    else process.env.OTEL_ELASTICSEARCH_ENABLED = saved;
  }
});
