// Prometheus metrics of the worker (prom-client), on a registry of its own so tests and several
// workers in one process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { stageCpu, type StageCpuLedger } from './stage-cpu.js';

export type Stage = 'fetch' | 'convert' | 'split' | 'embed' | 'write' | 'total';

export interface WorkerMetrics {
  readonly registry: Registry;
  readonly messagesReceived: Counter;
  readonly filesIndexed: Counter;
  readonly filesRemoved: Counter;
  /** Named by a message, but already indexed from the same object under the same settings: skipped. */
  readonly filesUnchanged: Counter;
  /** Files whose metadata alone changed: chunks rewritten in place, nothing downloaded or embedded. */
  readonly metadataUpdates: Counter;
  /** A later claim of the same file won; that writer's chunks stay (docs/operations.md). */
  readonly filesSuperseded: Counter;
  /** Transient failures; the message is released and retried. */
  readonly filesRetried: Counter<'reason'>;
  readonly deadLettered: Counter<'reason'>;
  /** Receives that failed: queue_missing, access_denied, credentials_rejected (the queue is unusable) or other. */
  readonly receiveFailures: Counter<'reason'>;
  readonly chunksEmbedded: Counter;
  readonly tokensEmbedded: Counter;
  readonly stageSeconds: Histogram<'stage'>;
  /** CPU seconds per stage, read from the process's ledger at each scrape (stage-cpu.ts). */
  readonly stageCpuSeconds: Counter<'stage'>;
  readonly embedBatchTexts: Histogram;
  /** Tokens the model ran, padding included: over tokens_embedded_total, what padding costs. */
  readonly embedPaddedTokens: Counter;
  /** Pages read by OCR. */
  readonly ocrPages: Counter;
  /** Files OCR's page cap or time budget stopped (indexed as far as OCR got), by limit. */
  readonly ocrStopped: Counter<'limit'>;
  readonly inFlight: Gauge;
  readonly lastSuccess: Gauge;
}

export function createMetrics(options: { defaultMetrics?: boolean; ledger?: StageCpuLedger } = {}): WorkerMetrics {
  const registry = new Registry();
  const ledger = options.ledger ?? stageCpu;
  // What this counter has reported of the ledger's totals: each scrape adds the difference, so the
  // counter only ever grows, as Prometheus expects.
  const reported = new Map<string, number>();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'keda_indexer_' });
  const registers = [registry];
  return {
    registry,
    messagesReceived: new Counter({ name: 'keda_indexer_messages_received_total', help: 'Queue messages received.', registers }),
    filesIndexed: new Counter({ name: 'keda_indexer_files_indexed_total', help: 'Files whose chunks were all written.', registers }),
    filesRemoved: new Counter({ name: 'keda_indexer_files_removed_total', help: 'Files whose chunks were removed because their object is gone.', registers }),
    metadataUpdates: new Counter({
      name: 'keda_indexer_metadata_updates_total',
      help: 'Files whose metadata (tags, sidecar, user metadata) changed with the object unchanged: chunks updated in place, nothing downloaded or embedded.',
      registers,
    }),
    filesUnchanged: new Counter({
      name: 'keda_indexer_files_unchanged_total',
      help: 'Files acknowledged without download or embedding: their ETag and the index settings match what is indexed.',
      registers,
    }),
    filesSuperseded: new Counter({
      name: 'keda_indexer_files_superseded_total',
      help: 'Files whose write lost to a later claim of the same file (edited or removed meanwhile); the later version stays.',
      registers,
    }),
    filesRetried: new Counter({
      name: 'keda_indexer_files_retried_total',
      help: 'Transient failures: the message was released for a later retry.',
      labelNames: ['reason'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'keda_indexer_dead_lettered_total',
      help: 'Messages sent to the dead-letter queue, by reason.',
      labelNames: ['reason'],
      registers,
    }),
    receiveFailures: new Counter({
      name: 'keda_indexer_receive_failures_total',
      help: 'Receives from the queue that failed, by reason (queue_missing, access_denied, credentials_rejected, other).',
      labelNames: ['reason'],
      registers,
    }),
    ocrPages: new Counter({ name: 'keda_indexer_ocr_pages_total', help: 'Pages read by OCR (PDF pages without text, image pages).', registers }),
    ocrStopped: new Counter({
      name: 'keda_indexer_ocr_stopped_total',
      help: 'Files whose OCR stopped at OCR_MAX_PAGES (limit="pages") or OCR_MAX_SECONDS (limit="seconds"); each was indexed as far as OCR got.',
      labelNames: ['limit'],
      registers,
    }),
    chunksEmbedded: new Counter({ name: 'keda_indexer_chunks_embedded_total', help: 'Chunks embedded.', registers }),
    tokensEmbedded: new Counter({ name: 'keda_indexer_tokens_embedded_total', help: 'Tokens embedded (special tokens included, padding excluded).', registers }),
    stageSeconds: new Histogram({
      name: 'keda_indexer_stage_duration_seconds',
      help: 'Time per file in each stage.',
      labelNames: ['stage'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    stageCpuSeconds: new Counter({
      name: 'keda_indexer_stage_cpu_seconds_total',
      help: 'CPU seconds used by each stage (fetch, convert, split incl. token counting, embed, request = building bulk bodies, write, other), all threads.',
      labelNames: ['stage'],
      registers,
      collect() {
        for (const [stage, seconds] of Object.entries(ledger.seconds())) {
          const delta = seconds - (reported.get(stage) ?? 0);
          reported.set(stage, seconds);
          this.inc({ stage }, Math.max(0, delta));
        }
      },
    }),
    embedBatchTexts: new Histogram({
      name: 'keda_indexer_embed_batch_texts',
      help: 'Texts per model call.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    embedPaddedTokens: new Counter({
      name: 'keda_indexer_embed_padded_tokens_total',
      help: 'Tokens the model ran, padding included (each batch: its longest text × its texts); divided by tokens_embedded_total, the cost of padding.',
      registers,
    }),
    inFlight: new Gauge({ name: 'keda_indexer_in_flight_messages', help: 'Messages being processed.', registers }),
    lastSuccess: new Gauge({ name: 'keda_indexer_last_success_timestamp_seconds', help: 'When a file was last indexed.', registers }),
  };
}
