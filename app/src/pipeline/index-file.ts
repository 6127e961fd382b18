// One file through convert → split → embed → sink. Shared by the queue worker and the CLI's
// `index` command, so both index a file the same way.
import { convert, type ConvertLimits } from '../convert/index.js';
import type { EmbedBatcher } from '../embed/batcher.js';
import type { Embedder } from '../embed/embedder.js';
import type { Settings } from '../config/config.js';
import { chunkIdOf, type ChunkDocument, type ChunkSink, type ObjectIdentity, type RemoveResult, type WriteClaim } from '../sink/document.js';
import { PermanentError } from '../failure.js';
import { stageCpu } from '../observe/stage-cpu.js';
import { splitText, type SplitOptions } from '../split/splitter.js';

export type { ChunkSink } from '../sink/document.js';

export interface IndexedFile {
  readonly sourceId: string;
  readonly chunks: number;
  readonly tokens: number;
  readonly contentType: string;
  readonly staleDeleted: number;
  /** A later claim of the file won while this one was at work: its chunks stay, not these. */
  readonly superseded: boolean;
  /** Seconds per stage. */
  readonly seconds: { convert: number; split: number; embed: number; write: number };
}

export interface FileToIndex {
  readonly bytes: Uint8Array;
  /** Name used for type detection (the key's last segment or the local file name). */
  readonly fileName: string;
  /** `s3://bucket/key` or an absolute local path: the file's identity in the index. */
  readonly filePath: string;
  /** The object the bytes came from, recorded with the chunks. */
  readonly object?: ObjectIdentity;
}

export class FileIndexer {
  private readonly splitOptions: SplitOptions;
  private readonly limits: ConvertLimits;

  constructor(
    private readonly embedder: Pick<Embedder, 'countTokens' | 'modelMaxTokens'>,
    private readonly batcher: Pick<EmbedBatcher, 'embedPassages'>,
    private readonly sink: ChunkSink,
    settings: Pick<Settings, 'split' | 'convert'>,
  ) {
    this.splitOptions = {
      by: settings.split.by,
      length: settings.split.length,
      overlap: settings.split.overlap,
      maxTokens: Math.min(settings.split.maxTokens, embedder.modelMaxTokens),
      countTokens: (text) => embedder.countTokens(text),
      withinPages: settings.split.withinPages,
    };
    this.limits = {
      maxPages: settings.convert.maxPages,
      maxMillis: settings.convert.maxSeconds * 1000,
      maxInflatedBytes: settings.convert.maxInflatedBytes,
    };
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
    const converted = await stageCpu.measure('convert', () => convert(file.bytes, file.fileName, this.limits));
    const convertSeconds = clock.lap();

    const chunks = stageCpu.sync('split', () => splitText(converted, this.splitOptions));
    if (chunks.length === 0) throw new PermanentError('no_text', 'no chunk could be made from the extracted text');
    const splitSeconds = clock.lap();

    const vectors = await this.batcher.embedPassages(chunks.map((chunk) => ({ text: chunk.content, tokens: chunk.tokens })));
    const embedSeconds = clock.lap();

    const { sourceId } = claim;
    const indexedAt = new Date().toISOString();
    let tokens = 0;
    const documents = stageCpu.sync('request', () => chunks.map((chunk, i): ChunkDocument => {
      const vector = vectors[i];
      if (vector === undefined) throw new Error(`no vector for chunk ${i}`);
      tokens += chunk.tokens;
      return {
        id: chunkIdOf(sourceId, chunk.splitId),
        content: chunk.content,
        embedding: Array.from(vector),
        file_path: file.filePath,
        source_id: sourceId,
        split_id: chunk.splitId,
        split_idx_start: chunk.splitIdxStart,
        ...(chunk.pageNumber === undefined ? {} : { page_number: chunk.pageNumber }),
        ...(chunk.pageEnd === undefined ? {} : { page_end: chunk.pageEnd }),
        content_type: converted.contentType,
        indexed_at: indexedAt,
      };
    }));
    const { staleDeleted, superseded } = await stageCpu.measure('write', () => this.sink.writeFile(claim, documents, file.object));
    const writeSeconds = clock.lap();
    return {
      sourceId,
      chunks: documents.length,
      tokens,
      contentType: converted.contentType,
      staleDeleted,
      superseded,
      seconds: { convert: convertSeconds, split: splitSeconds, embed: embedSeconds, write: writeSeconds },
    };
  }

  /** Removes the claimed file's chunks: its object is gone. */
  async remove(claim: WriteClaim, object?: ObjectIdentity): Promise<RemoveResult> {
    return this.sink.removeFile(claim, object);
  }
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
