// One file through convert → split → embed → sink. Shared by the queue worker and the CLI's
// `index` command, so both index a file the same way.
import { convert, type ConvertLimits } from '../convert/index.js';
import type { EmbedBatcher } from '../embed/batcher.js';
import type { Embedder } from '../embed/embedder.js';
import type { Settings } from '../config/config.js';
import { chunkIdOf, sourceIdOf, type ChunkDocument } from '../sink/document.js';
import { PermanentError } from '../failure.js';
import { splitText, type SplitOptions } from '../split/splitter.js';

/** Where chunks go: Elasticsearch, or the embedded local store. */
export interface ChunkSink {
  writeFile(sourceId: string, documents: readonly ChunkDocument[]): Promise<{ written: number; staleDeleted: number }>;
  removeFile(sourceId: string): Promise<number>;
}

export interface IndexedFile {
  readonly sourceId: string;
  readonly chunks: number;
  readonly tokens: number;
  readonly contentType: string;
  readonly staleDeleted: number;
  /** Seconds per stage. */
  readonly seconds: { convert: number; split: number; embed: number; write: number };
}

export interface FileToIndex {
  readonly bytes: Uint8Array;
  /** Name used for type detection (the key's last segment or the local file name). */
  readonly fileName: string;
  /** `s3://bucket/key` or an absolute local path: the file's identity in the index. */
  readonly filePath: string;
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
    };
    this.limits = {
      maxPages: settings.convert.maxPages,
      maxMillis: settings.convert.maxSeconds * 1000,
      maxInflatedBytes: settings.convert.maxInflatedBytes,
    };
  }

  async index(file: FileToIndex): Promise<IndexedFile> {
    const clock = stopwatch();
    const converted = await convert(file.bytes, file.fileName, this.limits);
    const convertSeconds = clock.lap();

    const chunks = splitText(converted, this.splitOptions);
    if (chunks.length === 0) throw new PermanentError('no_text', 'no chunk could be made from the extracted text');
    const splitSeconds = clock.lap();

    const vectors = await this.batcher.embedPassages(chunks.map((chunk) => ({ text: chunk.content, tokens: chunk.tokens })));
    const embedSeconds = clock.lap();

    const sourceId = sourceIdOf(file.filePath);
    const indexedAt = new Date().toISOString();
    let tokens = 0;
    const documents = chunks.map((chunk, i): ChunkDocument => {
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
        content_type: converted.contentType,
        indexed_at: indexedAt,
      };
    });
    const { staleDeleted } = await this.sink.writeFile(sourceId, documents);
    const writeSeconds = clock.lap();
    return {
      sourceId,
      chunks: documents.length,
      tokens,
      contentType: converted.contentType,
      staleDeleted,
      seconds: { convert: convertSeconds, split: splitSeconds, embed: embedSeconds, write: writeSeconds },
    };
  }

  async remove(filePath: string): Promise<number> {
    return this.sink.removeFile(sourceIdOf(filePath));
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
