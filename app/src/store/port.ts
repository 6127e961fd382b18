// The chunk-store port: what the pipeline and the commands ask of a store, whichever it is
// (Elasticsearch in store/elasticsearch/, the embedded local store in store/local/). Each store
// keeps its own way of ordering writers and of ranking inside itself (as Haystack's DocumentStore
// protocol does): a claim is an opaque token, a search asks the caller only to embed the query
// with the model the store says its vectors were made with.
import type { DeadLetterReason } from '../failure.js';
import type { ChunkMetadataFields } from '../metadata/chunk-fields.js';
import type { MetaFields } from '../metadata/values.js';
import type { ChunkProvenance, ChunkSlices, MetadataUpdateResult, ObjectIdentity, RemoveResult, WriteResult } from './document.js';
import type { Reader, SearchFilter } from './filters.js';
import type { ModelRecord } from './model-record.js';

/**
 * The right to write one file's chunks, taken before the file is read. Opaque: what a store needs
 * to fence the write (Elasticsearch's generation and sequence numbers) stays inside the store that
 * issued it, which refuses a claim it did not issue. Of claims of one file, a later one always wins
 * (docs/operations.md, "The latest version wins").
 */
export interface WriteClaim {
  readonly filePath: string;
  /** sourceIdOf(filePath): the chunks' ids are made from it. */
  readonly sourceId: string;
}

/** One chunk found by a search, without its vector. */
export interface SearchHit {
  readonly score: number;
  readonly content: string;
  readonly file_path: string;
  /** First page of the chunk (Haystack's page_number). */
  readonly page_number?: number;
  /** Last page of the chunk: a citation names pages page_number–page_end. */
  readonly page_end?: number;
  /** The named part of the file the chunk starts in (a spreadsheet's sheet). */
  readonly section?: string;
  /** The chunk's text (some of it) was read by OCR, with the engine's mean confidence (0 to 1). */
  readonly ocr?: boolean;
  readonly ocr_confidence?: number;
  readonly split_id: number;
  readonly source_id: string;
  /** The file's metadata fields (user metadata, tags, sidecar). */
  readonly meta?: MetaFields;
}

export interface StoreQuery {
  readonly text: string;
  /** How many hits, at most. */
  readonly k: number;
  /** All must hold; applied before ranking, so k stays k (filters.ts). */
  readonly filters: readonly SearchFilter[];
  /** Fuse kNN with BM25 by rank where the store has a text index (Elasticsearch); kNN alone otherwise. */
  readonly hybrid: boolean;
  /**
   * For whom the search reads (`search --as`, `--all`). A store whose chunks carry access fields
   * (or whose settings name ACL_METADATA_KEY) refuses a search without one: StoreRefusal, usage.
   */
  readonly reader?: Reader;
}

/** What a search reads: its name (a physical index, a folder) and the model its vectors are of. */
export interface SearchTarget {
  readonly name: string;
  /** Undefined for an index made before models were recorded. */
  readonly model: ModelRecord | undefined;
}

/** The caller's part of a search: the query's vector, made with the target's model. */
export type EmbedQuery = (target: SearchTarget) => Promise<Float32Array>;

export interface StoreSearchResult {
  readonly hits: SearchHit[];
  /** What was searched: one target for the whole query, even when an alias moved meanwhile. */
  readonly target: SearchTarget;
}

/** Where chunks go and are found. */
export interface ChunkStore {
  /** For messages: "Elasticsearch index documents-v1-all-minilm-l6-v2", "local store /home/me/.keda". */
  readonly description: string;
  /** Takes the file's next claim; call it before reading the file. */
  claim(filePath: string): Promise<WriteClaim>;
  /**
   * Writes a file's chunks slice by slice under `claim`, all or nothing, replacing what the file
   * had: when a slice cannot be made or written, the file is left without a mix of old and new.
   */
  write(claim: WriteClaim, slices: ChunkSlices, provenance?: ChunkProvenance): Promise<WriteResult>;
  /** Removes all of a file's chunks (its object is gone). */
  remove(claim: WriteClaim, object?: ObjectIdentity): Promise<RemoveResult>;
  /** What the file's chunks were last made from, when they are all written. */
  indexedFrom(filePath: string): Promise<ChunkProvenance | undefined>;
  /**
   * Rewrites the metadata and access fields of the claimed file's `chunks` chunks in place, with
   * no embedding, and records `object`; 'missing' when they are not all there. Absent where a
   * store cannot (the file is indexed again instead).
   */
  updateMetadata?(claim: WriteClaim, chunks: number, fields: ChunkMetadataFields, object: ChunkProvenance): Promise<MetadataUpdateResult>;
  /** Records that the claimed file was dead-lettered; false when a later claim came first. */
  recordDeadLettered(claim: WriteClaim, reason: DeadLetterReason): Promise<boolean>;
  search(query: StoreQuery, embedQuery: EmbedQuery): Promise<StoreSearchResult>;
  /** Makes what was written durable and searchable (the local store saves, Elasticsearch refreshes). */
  flush(): Promise<void>;
  /**
   * Saves what was written so far, for a long run that must keep its work through a crash; absent
   * where every write is durable when it returns (Elasticsearch).
   */
  checkpoint?(): Promise<void>;
  /**
   * Every file the store holds chunks of; absent where listing is not cheap. `index` removes the
   * files gone from the folders it indexes through it.
   */
  listFiles?(): Promise<string[]>;
  /**
   * Calls `onRetired` once when this store stops being the one searched (an Elasticsearch alias
   * moved to another index); absent where that cannot happen.
   */
  watchRetirement?(intervalMs: number, handlers: RetirementHandlers): { stop(): void };
  /** Releases connections. */
  close(): Promise<void>;
}

export interface RetirementHandlers {
  /** `fields`: what moved where, for the log line. */
  onRetired(fields: Readonly<Record<string, unknown>>): void;
  onError(error: unknown): void;
}

/** A store the settings describe but cannot use as they are: its message says what to fix. */
export class StoreStartupError extends Error {
  override readonly name: string = 'StoreStartupError';
}

/** A refusal meant for the user as is (a reindex step that cannot be taken), with the exit code's kind. */
export class StoreRefusal extends Error {
  override readonly name = 'StoreRefusal';
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
  }
}

/** What a search needs of a store: the part of ChunkStore a reader opens. */
export type ChunkSearcher = Pick<ChunkStore, 'description' | 'search' | 'close'>;

/** One line of `doctor`'s report. */
export interface StoreCheck {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly detail: string;
  readonly fix?: string;
}

/**
 * The store the settings chose, before it is opened: what commands ask of it. Optional members are
 * capabilities some stores lack; a command that needs one refuses clearly without it.
 */
export interface StoreProvider {
  /** Where the store is, for messages: "Elasticsearch at https://…", "local store /home/me/.keda". */
  readonly description: string;
  /** Many processes may write to it at once, each ordered by its claims: the queue worker needs that. */
  readonly shared: boolean;
  /**
   * Opens the store to write vectors of `model`, creating it when absent. Throws
   * StoreStartupError for a store that cannot take them (made with another model); other errors
   * are the store being unreachable, worth a retry.
   */
  openForWriting(model: ModelRecord): Promise<ChunkStore>;
  /** Opens the store to search it, whatever model made it. */
  openForReading(): Promise<ChunkSearcher>;
  /** Whether the store answers (the worker's readiness). */
  ping(): Promise<boolean>;
  /** `doctor`'s checks of the store, against the configured model when it loaded. */
  checks(model: ModelRecord | undefined): Promise<StoreCheck[]>;
  /**
   * Creates the store ahead of its writers (bootstrap) and says what it did in a few words;
   * absent where a store is made by its first write.
   */
  prepare?(model: ModelRecord): Promise<string>;
  /** Changing the embedding model without downtime (`reindex`); absent where the store cannot. */
  readonly reindexing?: Reindexing;
  close(): Promise<void>;
}

export type Out = NodeJS.WritableStream;

export interface VerifyOptions {
  readonly from?: string;
  readonly to?: string;
  /** A file's chunk count in the new index may differ from the old by this factor at most. */
  readonly maxChunkRatio: number;
}

export interface FlipOptions {
  readonly to?: string;
  readonly rollback: boolean;
  readonly replaceIndex: boolean;
  /** Flip without verifying first. */
  readonly force: boolean;
  readonly maxChunkRatio: number;
}

/**
 * Versions of the store side by side, one per model, and the switch between them
 * (docs/operations.md, "Change the embedding model"). Each step writes its report to `out` and
 * says whether it succeeded; a step that cannot be taken throws StoreRefusal.
 */
export interface Reindexing {
  status(out: Out): Promise<boolean>;
  /** `modelSetting`: what the operator named the model by (--model), for the instructions printed. */
  create(model: ModelRecord, modelSetting: string, out: Out): Promise<boolean>;
  verify(options: VerifyOptions, out: Out): Promise<boolean>;
  flip(options: FlipOptions, out: Out): Promise<boolean>;
  delete(options: { readonly index?: string }, out: Out): Promise<boolean>;
}
