// The file pipeline as the consumer's handler (consumer/handler.ts): a message names files in
// S3; each is brought in line with the index (unchanged check, claim, fetch, removal or indexing),
// with its metrics and log lines. The handler's verdict says how the message ends: acknowledged
// once every file is done, dead-lettered when the input is at fault, retried otherwise.
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Settings } from '../config/config.js';
import { ACK, type MessageHandler, type Verdict } from '../consumer/handler.js';
import type { QueueMessage } from '../consumer/queue.js';
import { fetchObject } from '../fetch/s3.js';
import { isPermanent, type PermanentError } from '../failure.js';
import type { Logger } from '../observe/logger.js';
import type { WorkerMetrics } from '../observe/metrics.js';
import { stageCpu } from '../observe/stage-cpu.js';
import { s3FilePath, type ChunkProvenance } from '../store/document.js';
import type { WriteClaim } from '../store/port.js';
import { allowedLocationsOf, type AllowedLocation } from '../s3-names.js';
import { parseMessage, type FileEvent } from '../source/message.js';
import type { FileIndexer } from './index-file.js';
import { sameEtag } from './index-settings.js';
import { changeOf, metadataReadSettingsOf, sidecarEventTarget, warnAboutMetadata } from './metadata-change.js';
import { MetadataReader } from '../metadata/sources.js';

const FETCH_TIMEOUT_MS = 10 * 60 * 1000;

export class FileHandler {
  /** What messages may name (S3_ALLOWED_BUCKETS); checked before any object is read. */
  private readonly allowed: readonly AllowedLocation[];
  /** The file's user metadata, tags and sidecar (metadata/sources.ts). */
  private readonly metadata: MetadataReader;

  constructor(
    private readonly s3: S3Client,
    private readonly indexer: FileIndexer,
    private readonly settings: Pick<Settings, 'fetch' | 's3' | 'metadata'>,
    private readonly metrics: WorkerMetrics,
  ) {
    this.allowed = allowedLocationsOf(settings.s3);
    this.metadata = new MetadataReader(s3, metadataReadSettingsOf(settings));
  }

  /** The consumer's handler; a property so it can be passed on as it is. */
  readonly handle: MessageHandler = (message, { log }) => this.handleMessage(message, log);

  private async handleMessage(message: QueueMessage, log: Logger): Promise<Verdict> {
    const started = performance.now();
    const parsed = parseMessage(message.body, this.allowed);
    if (parsed.kind === 'invalid') return { kind: 'deadLetter', details: { reason: 'malformed_message', error: parsed.reason } };
    if (parsed.kind === 'forbidden') {
      const file = { bucket: parsed.file.bucket, key: parsed.file.key };
      return { kind: 'deadLetter', details: { reason: 'forbidden_bucket', error: parsed.reason, ...file }, log: log.child(file) };
    }
    if (parsed.kind === 'ignore') {
      log.info({ outcome: 'ignored', why: parsed.reason }, 'message ignored');
      return ACK;
    }
    let current: FileEvent | undefined;
    try {
      for (const event of parsed.events) {
        current = event;
        await this.processEvent(event, log);
      }
    } catch (error) {
      // The failing file's bucket and key go on the line: an operator looking up a key in the
      // logs finds why it is not indexed.
      const failed = current;
      const fileLog = failed === undefined ? log : log.child({ bucket: failed.bucket, key: failed.key });
      if (!isPermanent(error)) return { kind: 'retry', error, log: fileLog };
      const file = failed === undefined ? {} : { bucket: failed.bucket, key: failed.key };
      return { kind: 'deadLetter', details: { reason: error.reason, error: error.message, ...file }, log: fileLog };
    }
    // Time to the verdict; the queue call that follows is the consumer's.
    this.metrics.stageSeconds.observe({ stage: 'total' }, (performance.now() - started) / 1000);
    return ACK;
  }

  /**
   * Brings the index in line with the object as S3 has it now. The claim comes before the
   * download, so a later claim always reads the object later, and a later claim always wins: the
   * last write of a file is made from its last version (docs/operations.md).
   */
  private async processEvent(received: FileEvent, log: Logger): Promise<void> {
    // A sidecar is never a document: its events are about its document's metadata.
    const event = sidecarEventTarget(received, this.metadata.settings.readSidecars);
    if (event === undefined) {
      log.info({ bucket: received.bucket, key: received.key, outcome: 'ignored', why: 'metadata sidecar (S3_READ_SIDECARS=false)' }, 'sidecar not read; ignored');
      return;
    }
    const filePath = s3FilePath(event.bucket, event.key);
    const fileLog = log.child({ bucket: event.bucket, key: event.key, action: event.action, ...(event === received ? {} : { sidecar: received.key }) });
    // Re-running a backfill, or a duplicate notification, costs one record read (and, with
    // metadata sources on, a look at the metadata). No claim is taken: nothing is written, and a
    // writer at work leaves the record "claimed", not "indexed".
    const change = event.action === 'upsert' && event.force !== true ? await changeOf(event, filePath, this.indexer, this.metadata) : { kind: 'content' as const };
    if (change.kind === 'unchanged') {
      this.metrics.filesUnchanged.inc();
      fileLog.info({ outcome: 'unchanged', origin: event.origin }, 'file unchanged since it was indexed; skipped');
      return;
    }
    const claim = await this.indexer.claim(filePath);
    try {
      if (change.kind === 'metadata' && (await this.updateMetadata(event, claim, change.indexed, fileLog))) return;
      await this.processClaimed(event, claim, fileLog);
    } catch (error) {
      // A file whose message is dead-lettered says so on its record (with the reason) instead of
      // staying "claimed" for ever. A missing object's record already says "absent". If the
      // record cannot be written, that error goes on instead: the message is retried, not lost.
      if (isPermanent(error) && error.reason !== 'missing_object') await this.indexer.recordDeadLettered(claim, error.reason);
      throw error;
    }
  }

  /**
   * The object is unchanged and its metadata is not: the chunks get the metadata read now (after
   * the claim, so a later claim reads later metadata) without a download or a model call. False
   * when that cannot be done (the object changed meanwhile, chunks missing): index it instead.
   */
  private async updateMetadata(event: FileEvent, claim: WriteClaim, indexed: ChunkProvenance, fileLog: Logger): Promise<boolean> {
    const now = await this.metadata.current(event.bucket, event.key);
    if (now === 'missing' || now.etag === undefined || indexed.etag === undefined || !sameEtag(indexed.etag, now.etag)) return false;
    const result = await this.indexer.updateMetadata(claim, indexed, now.metadata);
    if (result === 'missing') return false;
    warnAboutMetadata(fileLog, now.metadata);
    if (result.superseded) {
      this.metrics.filesSuperseded.inc();
      fileLog.info({ outcome: 'superseded' }, 'metadata changed, and a later claim of the file came first; its chunks stay');
      return true;
    }
    this.metrics.metadataUpdates.inc();
    this.metrics.lastSuccess.setToCurrentTime();
    fileLog.info({ outcome: 'metadata_updated', chunks: result.updated }, 'metadata changed; chunks updated in place, nothing embedded');
    return true;
  }

  /** The object is gone: whatever the message said, the file's chunks go too. */
  private async gone(event: FileEvent, claim: WriteClaim, error: PermanentError, fileLog: Logger): Promise<void> {
    const { removed, superseded } = await this.indexer.remove(claim);
    if (superseded) this.metrics.filesSuperseded.inc();
    else this.metrics.filesRemoved.inc();
    fileLog.info(
      { outcome: superseded ? 'superseded' : 'removed', chunksRemoved: removed },
      event.action === 'remove' ? 'file removed from the index' : 'object gone before download; its chunks removed',
    );
    // A request ({"bucket","key"}) named an object that does not exist: say so in the DLQ. A
    // notification of a file deleted since is normal; its ObjectRemoved said the rest.
    if (event.origin === 'request') throw error;
  }

  private async processClaimed(event: FileEvent, claim: WriteClaim, fileLog: Logger): Promise<void> {
    const filePath = claim.filePath;
    const fetchStarted = performance.now();
    let object;
    try {
      object = await stageCpu.measure('fetch', () =>
        fetchObject(this.s3, {
          bucket: event.bucket,
          key: event.key,
          maxBytes: this.settings.fetch.maxBytes,
          // A stalled download must not hold the message forever; its lease would be extended on.
          signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        }),
      );
    } catch (error) {
      if (!isPermanent(error) || error.reason !== 'missing_object') throw error;
      return this.gone(event, claim, error, fileLog);
    }
    // Tags and sidecar are read after the claim too: a later claim reads later metadata.
    let metadata;
    try {
      metadata = await this.metadata.ofFetched(event.bucket, event.key, object.metadata);
    } catch (error) {
      // Deleted between the download and its tags: gone, as if before the download.
      if (!isPermanent(error) || error.reason !== 'missing_object') throw error;
      return this.gone(event, claim, error, fileLog);
    }
    warnAboutMetadata(fileLog, metadata);
    const fetchSeconds = (performance.now() - fetchStarted) / 1000;
    const result = await this.indexer.index(
      {
        bytes: object.bytes,
        fileName: path.posix.basename(event.key),
        filePath,
        object: {
          ...(object.etag === undefined ? {} : { etag: object.etag }),
          ...(object.versionId === undefined ? {} : { versionId: object.versionId }),
          ...(object.lastModified === undefined ? {} : { lastModified: object.lastModified }),
        },
        metadata,
      },
      claim,
    );
    const { metrics } = this;
    metrics.stageSeconds.observe({ stage: 'fetch' }, fetchSeconds);
    for (const [stage, seconds] of Object.entries(result.seconds)) {
      metrics.stageSeconds.observe({ stage: stage }, seconds);
    }
    metrics.chunksEmbedded.inc(result.chunks);
    metrics.tokensEmbedded.inc(result.tokens);
    const details = {
      bytes: object.bytes.byteLength,
      contentType: result.contentType,
      chunks: result.chunks,
      tokens: result.tokens,
      staleDeleted: result.staleDeleted,
      seconds: { fetch: fetchSeconds, ...result.seconds },
      // An e-mail's attachments: which became documents of their own, which were skipped and why.
      ...(result.attachments === undefined ? {} : { attachments: result.attachments }),
    };
    if (result.superseded) {
      metrics.filesSuperseded.inc();
      fileLog.info({ outcome: 'superseded', ...details }, 'file changed meanwhile; the later version stays');
      return;
    }
    metrics.filesIndexed.inc();
    metrics.lastSuccess.setToCurrentTime();
    fileLog.info({ outcome: 'indexed', ...details }, 'file indexed');
  }
}
