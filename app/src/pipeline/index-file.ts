// One file through convert → split → embed → sink. Shared by the queue worker and the CLI's
// `index` command, so both index a file the same way.
import type { FileConverter, SandboxLimits } from '../convert/sandbox.js';
import type { Converted, OcrPage, OcrStopped, SkippedPart } from '../convert/types.js';
import type { EmbedBatcher } from '../embed/batcher.js';
import type { Embedder } from '../embed/embedder.js';
import type { Settings } from '../config/config.js';
import { chunkIdOf, type ChunkDocument, type ChunkProvenance, type MetadataUpdateResult, type ObjectIdentity, type RemoveResult } from '../store/document.js';
import type { ChunkStore, WriteClaim } from '../store/port.js';
import { PermanentError, type DeadLetterReason } from '../failure.js';
import type { Logger } from '../observe/logger.js';
import { stageCpu } from '../observe/stage-cpu.js';
import { splitText, type Chunk, type SplitOptions } from '../split/splitter.js';
import { indexSettingsFingerprint, sameEtag } from './index-settings.js';
import { modelSlug } from '../embed/model-profile.js';
import { chunkMetadataOf } from '../metadata/chunk-fields.js';
import type { FileMetadata } from '../metadata/merge.js';

/** What the indexer needs of a store: its writes, under claims (and metadata-only rewrites where it can). */
export type ChunkSink = Pick<ChunkStore, 'claim' | 'write' | 'remove' | 'indexedFrom' | 'recordDeadLettered' | 'updateMetadata'>;

export interface IndexedFile {
  readonly sourceId: string;
  readonly chunks: number;
  readonly tokens: number;
  readonly contentType: string;
  /** Files with parts (an e-mail's attachments): which were indexed as `<file_path>#<name>`, which skipped and why. */
  readonly attachments?: { readonly indexed: readonly string[]; readonly skipped: readonly SkippedPart[] };
  readonly staleDeleted: number;
  /** A later claim of the file won while this one was at work: its chunks stay, not these. */
  readonly superseded: boolean;
  /** Seconds per stage. */
  readonly seconds: { convert: number; split: number; embed: number; write: number };
  /** Present when OCR read pages of the file. */
  readonly ocr?: OcrSummary;
}

/** What OCR did for a file, for its log line. */
export interface OcrSummary {
  readonly pages: number;
  /** Mean of the pages' confidences, 0 to 1. */
  readonly confidence: number;
  /** OCR's budget stopped it: the file is indexed as far as OCR got. */
  readonly stopped?: OcrStopped;
}

export interface FileIndexerHooks {
  /** A file was read (some of it) by OCR: for metrics, and a log line when OCR's budget stopped it. */
  readonly onOcr?: (file: FileToIndex, ocr: OcrSummary) => void;
  /** Where the converter processes' output (library warnings, stderr) is logged, as JSON lines with the file. */
  readonly converterLogger?: Logger;
}

/** The converter's limits from the settings: one place, for the worker, `index` and the tests. */
export function sandboxLimitsOf(settings: Pick<Settings, 'convert' | 'ocr'>): SandboxLimits {
  return {
    maxPages: settings.convert.maxPages,
    maxMillis: settings.convert.maxSeconds * 1000,
    maxInflatedBytes: settings.convert.maxInflatedBytes,
    maxInflateRatio: settings.convert.maxInflateRatio,
    maxChars: settings.convert.maxChars,
    maxHeapMb: settings.convert.maxHeapMb,
    maxMemoryMb: settings.convert.maxMemoryMb,
    ocrMode: settings.ocr.mode,
    ocrLanguages: settings.ocr.languages.split('+'),
    ocrMaxPages: settings.ocr.maxPages,
    ocrMaxMillis: settings.ocr.maxSeconds * 1000,
    ocrDpi: settings.ocr.dpi,
  };
}

/** How a file is split under these settings, for this model (its tokenizer and its limit). */
export function splitOptionsOf(settings: Pick<Settings, 'split'>, embedder: Pick<Embedder, 'countTokens' | 'modelMaxTokens'>): SplitOptions {
  return {
    by: settings.split.by,
    length: settings.split.length,
    overlap: settings.split.overlap,
    maxTokens: Math.min(settings.split.maxTokens, embedder.modelMaxTokens),
    countTokens: (text) => embedder.countTokens(text),
    withinPages: settings.split.withinPages,
  };
}

/** `ocr` and `ocr_confidence` of a chunk over pages [first, last]: OCR read at least one of them. */
export function chunkOcrOf(ocrPages: readonly OcrPage[] | undefined, first: number | undefined, last: number | undefined): { ocr: true; ocr_confidence: number } | undefined {
  if (ocrPages === undefined || ocrPages.length === 0 || first === undefined) return undefined;
  const covered = ocrPages.filter((page) => page.page >= first && page.page <= (last ?? first));
  if (covered.length === 0) return undefined;
  const confidence = covered.reduce((sum, page) => sum + page.confidence, 0) / covered.length;
  return { ocr: true, ocr_confidence: Math.round(confidence * 1000) / 1000 };
}

function ocrSummaryOf(ocrPages: readonly OcrPage[] | undefined, stopped: OcrStopped | undefined): OcrSummary | undefined {
  if ((ocrPages === undefined || ocrPages.length === 0) && stopped === undefined) return undefined;
  const pages = ocrPages ?? [];
  const confidence = pages.length === 0 ? 0 : pages.reduce((sum, page) => sum + page.confidence, 0) / pages.length;
  return { pages: pages.length, confidence: Math.round(confidence * 1000) / 1000, ...(stopped === undefined ? {} : { stopped }) };
}

export interface FileToIndex {
  readonly bytes: Uint8Array;
  /** Name used for type detection (the key's last segment or the local file name). */
  readonly fileName: string;
  /** `s3://bucket/key` or an absolute local path: the file's identity in the index. */
  readonly filePath: string;
  /** The object the bytes came from, recorded with the chunks. */
  readonly object?: ObjectIdentity;
  /** The file's metadata and access fields (metadata/merge.ts), carried by every chunk. */
  readonly metadata?: FileMetadata;
}

export class FileIndexer {
  private readonly splitOptions: SplitOptions;
  private readonly limits: SandboxLimits;
  private readonly maxChunks: number;
  private readonly converterProcesses: number;
  private converter: Promise<FileConverter> | undefined;
  /** Fingerprint of the model and split settings, recorded with each file's chunks. */
  readonly indexSettings: string;
  /**
   * The fingerprint as it was made before the model was named by its identity (model-record.ts):
   * with the model's spelling. Records that carry it still count as unchanged, so an upgrade does
   * not re-embed every file a backfill names again.
   */
  private readonly spelledIndexSettings: string;
  private readonly sliceChunks: number;

  constructor(
    private readonly embedder: Pick<Embedder, 'countTokens' | 'modelMaxTokens' | 'model' | 'dimensions'>,
    private readonly batcher: Pick<EmbedBatcher, 'embedPassages'>,
    private readonly sink: ChunkSink,
    settings: Pick<Settings, 'split' | 'convert' | 'ocr' | 'embedding'>,
    /** Where files are converted; by default a pool of converter processes (convert/sandbox.ts). */
    converter?: FileConverter,
    private readonly hooks: FileIndexerHooks = {},
  ) {
    if (converter !== undefined) this.converter = Promise.resolve(converter);
    this.converterProcesses = settings.convert.processes;
    this.maxChunks = settings.convert.maxChunks;
    this.splitOptions = splitOptionsOf(settings, embedder);
    this.limits = sandboxLimitsOf(settings);
    this.sliceChunks = settings.embedding.sliceChunks;
    const fingerprintOf = (model: string) =>
      indexSettingsFingerprint({
        model,
        dims: embedder.dimensions,
        dtype: settings.embedding.dtype,
        passagePrefix: settings.embedding.passagePrefix,
        split: settings.split,
        maxTokens: this.splitOptions.maxTokens,
      });
    // The model's identity, not its spelling: a hub id and the folder fetched from it are one model.
    this.indexSettings = fingerprintOf(modelSlug(embedder.model));
    this.spelledIndexSettings = fingerprintOf(embedder.model);
  }

  /**
   * True when the file's chunks were all written from the object with this ETag, under the
   * current index settings: indexing it again would write the same chunks. Asks the store.
   */
  async isUnchanged(filePath: string, etag: string): Promise<boolean> {
    const indexed = await this.sink.indexedFrom(filePath);
    if (indexed?.etag === undefined) return false;
    if (indexed.indexSettings !== this.indexSettings && indexed.indexSettings !== this.spelledIndexSettings) return false;
    return sameEtag(indexed.etag, etag);
  }

  /**
   * What the file's chunks were made from, when they are all written under the current index
   * settings (its ETag, metadata fingerprint and chunk count); undefined otherwise.
   */
  async indexedUnderCurrentSettings(filePath: string): Promise<ChunkProvenance | undefined> {
    const indexed = await this.sink.indexedFrom(filePath);
    if (indexed?.etag === undefined || indexed.indexSettings !== this.indexSettings) return undefined;
    return indexed;
  }

  /**
   * Gives the claimed file's chunks new metadata without converting or embedding anything
   * (`indexed`: what they were made from). 'missing' when the store cannot (it keeps no such
   * method, or the chunks are not all there): the file is to be indexed instead.
   */
  async updateMetadata(claim: WriteClaim, indexed: ChunkProvenance, metadata: FileMetadata): Promise<MetadataUpdateResult> {
    if (this.sink.updateMetadata === undefined || indexed.chunks === undefined || indexed.chunks === 0) return 'missing';
    const { chunks, ...object } = indexed;
    return this.sink.updateMetadata(claim, chunks, chunkMetadataOf(metadata), { ...object, metadata: metadata.fingerprint });
  }

  /**
   * Claims a file before its bytes are read: the claim orders this write against other writers of
   * the same file, so it must come first (docs/operations.md, "The latest version wins").
   */
  claim(filePath: string): Promise<WriteClaim> {
    return this.sink.claim(filePath);
  }

  async index(file: FileToIndex, claim: WriteClaim): Promise<IndexedFile> {
    if (claim.filePath !== file.filePath) throw new Error(`claim for ${claim.filePath} used for ${file.filePath}`);
    const clock = stopwatch();
    const converter = await this.converterOf();
    const converted = await stageCpu.measure('convert', () => converter.convert(file.bytes, file.fileName, file.filePath));
    const convertSeconds = clock.lap();

    // The whole text is split at once: chunk texts weigh about what the text does (a few MB for
    // thousands of pages). Vectors and request bodies, several times heavier, go by slices.
    // A file's parts (an e-mail's attachments) are split on their own and follow its chunks, with
    // split ids going on from the file's: all are written under the file's one claim, so they are
    // replaced, kept or removed with it.
    const chunks = stageCpu.sync('split', () => splitWithParts(converted, file.filePath, this.splitOptions));
    if (chunks.length === 0) throw new PermanentError('no_text', 'no chunk could be made from the extracted text');
    if (chunks.length > this.maxChunks) {
      throw new PermanentError('too_large', `it splits into ${chunks.length} chunks, more than CONVERT_MAX_CHUNKS=${this.maxChunks}`);
    }
    const splitSeconds = clock.lap();

    const { sourceId } = claim;
    const indexedAt = new Date().toISOString();
    const toDocument = (chunk: PlacedChunk, vector: Float32Array): ChunkDocument => ({
      id: chunkIdOf(sourceId, chunk.splitId),
      content: chunk.content,
      embedding: vector,
      file_path: chunk.filePath,
      source_id: sourceId,
      split_id: chunk.splitId,
      split_idx_start: chunk.splitIdxStart,
      ...(chunk.pageNumber === undefined ? {} : { page_number: chunk.pageNumber }),
      ...(chunk.pageEnd === undefined ? {} : { page_end: chunk.pageEnd }),
      ...(chunk.section === undefined ? {} : { section: chunk.section }),
      ...chunkOcrOf(chunk.ocrPages, chunk.pageNumber, chunk.pageEnd),
      content_type: chunk.contentType,
      indexed_at: indexedAt,
      ...chunkMetadataOf(file.metadata),
    });
    const embedding = { seconds: 0 };
    const slices = this.embeddedSlices(chunks, toDocument, embedding);
    // The model runs inside this section are the embed stage's (stage-cpu.ts measures them apart).
    const { staleDeleted, superseded } = await stageCpu.measure('write', () =>
      this.sink.write(claim, slices, {
        ...file.object,
        indexSettings: this.indexSettings,
        ...(file.metadata === undefined ? {} : { metadata: file.metadata.fingerprint }),
      }),
    );
    // Embedding and writing interleave: the write stage is what the sink took beyond the waits
    // for vectors.
    const writeSeconds = Math.max(0, clock.lap() - embedding.seconds);
    const ocr = ocrSummaryOf(converted.ocrPages, converted.ocrStopped);
    if (ocr !== undefined && !superseded) this.hooks.onOcr?.(file, ocr);
    return {
      sourceId,
      chunks: chunks.length,
      tokens: chunks.reduce((sum, chunk) => sum + chunk.tokens, 0),
      contentType: converted.contentType,
      ...(converted.parts !== undefined || converted.skippedParts !== undefined
        ? { attachments: { indexed: (converted.parts ?? []).map((part) => part.name), skipped: converted.skippedParts ?? [] } }
        : {}),
      staleDeleted,
      superseded,
      seconds: { convert: convertSeconds, split: splitSeconds, embed: embedding.seconds, write: writeSeconds },
      ...(ocr === undefined ? {} : { ocr }),
    };
  }

  /**
   * The file's chunks as documents, `sliceChunks` at a time. The next slice is embedded while the
   * sink writes the current one, so at most two slices of vectors are alive per file, and the
   * model is not left idle during a write. Stops embedding when the sink stops asking.
   */
  private async *embeddedSlices(
    chunks: readonly PlacedChunk[],
    toDocument: (chunk: PlacedChunk, vector: Float32Array) => ChunkDocument,
    embedding: { seconds: number },
  ): AsyncGenerator<ChunkDocument[]> {
    const embedSlice = (first: number) => {
      const slice = chunks.slice(first, first + this.sliceChunks);
      const vectors = this.batcher.embedPassages(slice.map((chunk) => ({ text: chunk.content, tokens: chunk.tokens })));
      // Awaited below, or dropped when the sink stops early: never an unhandled rejection.
      vectors.catch(() => undefined);
      return { slice, vectors };
    };
    let next = embedSlice(0);
    for (let first = 0; first < chunks.length; first += this.sliceChunks) {
      const current = next;
      const waited = performance.now();
      const vectors = await current.vectors;
      embedding.seconds += (performance.now() - waited) / 1000;
      if (first + this.sliceChunks < chunks.length) next = embedSlice(first + this.sliceChunks);
      yield stageCpu.sync('request', () =>
        current.slice.map((chunk, i) => {
          const vector = vectors[i];
          if (vector === undefined) throw new Error(`no vector for chunk ${chunk.splitId}`);
          return toDocument(chunk, vector);
        }),
      );
    }
  }

  /**
   * The converter pool, started on the first file: a command that converts nothing (or a worker
   * before its first message) starts no process. Loaded by a dynamic import so that the bundle
   * keeps the sandbox in a file of its own, which is also what its processes run.
   */
  private converterOf(): Promise<FileConverter> {
    const logger = this.hooks.converterLogger;
    this.converter ??= import('../convert/sandbox.js').then(
      ({ ConvertSandbox }) => new ConvertSandbox({ processes: this.converterProcesses, limits: this.limits, ...(logger === undefined ? {} : { logger }) }),
    );
    return this.converter;
  }

  /** Records on the claimed file's record that it was dead-lettered. */
  recordDeadLettered(claim: WriteClaim, reason: DeadLetterReason): Promise<boolean> {
    return this.sink.recordDeadLettered(claim, reason);
  }

  /** Removes the claimed file's chunks: its object is gone. */
  async remove(claim: WriteClaim, object?: ObjectIdentity): Promise<RemoveResult> {
    return this.sink.remove(claim, object);
  }
}

/** A chunk of a file or of one of its parts, with where it is from. */
interface PlacedChunk extends Chunk {
  /** The file's path, or `<file path>#<part name>` for a part's chunks. */
  readonly filePath: string;
  readonly contentType: string;
  /** The pages of its document that OCR read (the chunk's `ocr` fields come from them). */
  readonly ocrPages?: readonly OcrPage[];
}

/** The file's chunks, then each part's, numbered on from the file's. */
export function splitWithParts(converted: Converted, filePath: string, options: SplitOptions): PlacedChunk[] {
  const documents = [{ filePath, converted }, ...(converted.parts ?? []).map((part) => ({ filePath: `${filePath}#${part.name}`, converted: part.converted }))];
  const placed: PlacedChunk[] = [];
  for (const document of documents) {
    const first = placed.length;
    for (const chunk of splitText(document.converted, options)) {
      const { ocrPages } = document.converted;
      placed.push({ ...chunk, splitId: first + chunk.splitId, filePath: document.filePath, contentType: document.converted.contentType, ...(ocrPages === undefined ? {} : { ocrPages }) });
    }
  }
  return placed;
}

function stopwatch(): { lap(): number } {
  let last = performance.now();
  return {
    lap() {
      const now = performance.now();
      const seconds = (now - last) / 1000;
      last = now;
      return seconds;
    },
  };
}
