// The embedded local store: what `index` and `search` use when no Elasticsearch is configured,
// so the CLI works with no servers at all. See docs/local-store.md for why it is built this way.
//
// A folder holding a manifest (model, dims, and per file its size, mtime and chunk count), the
// chunks as JSON lines, and their vectors as raw little-endian float32, in the same order. A save
// writes a new generation of the data files and then swaps the manifest with an atomic rename, so
// a crash mid-save leaves the previous generation intact. Search is exact (brute-force dot
// products over normalised vectors): for the corpora one indexes from a laptop (up to ~10⁵
// chunks) it answers in milliseconds and never misses a neighbour.
import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelSlug } from '../../embed/model-profile.js';
import { sourceIdOf, type ChunkDocument, type ChunkProvenance, type ChunkSlices, type RemoveResult, type WriteResult } from '../document.js';
import { modelMismatch, type ModelRecord } from '../model-record.js';
import { StoreRefusal, StoreStartupError, type ChunkStore, type EmbedQuery, type SearchHit, type StoreQuery, type StoreSearchResult, type WriteClaim } from '../port.js';
import { chunkPredicate, hasAccessFields } from './metadata-filter.js';

export interface LocalFileEntry {
  readonly sourceId: string;
  readonly chunks: number;
  /** What the chunks were made from (the object's tag, the index settings); absent in stores saved before it was kept. */
  readonly provenance?: ChunkProvenance;
}

interface Manifest {
  readonly format: 1;
  /** The model setting the store was built with (a hub id or a folder), as `record.source`. */
  readonly model: string;
  readonly dims: number;
  /** The model's identity (model-record.ts); absent from stores saved before it was recorded. */
  readonly record?: ModelRecord;
  readonly generation: number;
  readonly files: Record<string, LocalFileEntry>;
}

type StoredChunk = Omit<ChunkDocument, 'embedding'>;

export interface LocalHit {
  readonly score: number;
  readonly chunk: StoredChunk;
}

export class LocalStoreError extends StoreStartupError {
  override readonly name: string = 'LocalStoreError';
}

const MANIFEST = 'manifest.json';
/**
 * The store holds the text of every file indexed into it: readable by its owner only, whatever the
 * umask (the folder's mode is set again on each save, for stores made before this).
 */
const FOLDER_MODE = 0o700;
const FILE_MODE = 0o600;

export class LocalStore implements ChunkStore {
  /** Chunks and vectors per source_id, in split order. */
  private readonly bySource = new Map<string, { chunks: StoredChunk[]; vectors: Float32Array[] }>();
  private readonly files: Map<string, LocalFileEntry>;
  private generation: number;
  /** The save in progress: saves run one after another (a checkpoint may be asked for during one). */
  private saving: Promise<void> = Promise.resolve();
  /** Claims are numbered as they are taken; per file, the number of its latest claim. */
  private claimsTaken = 0;
  private readonly latestClaim = new Map<string, number>();
  private readonly claims = new WeakMap<WriteClaim, number>();
  /** The model of a store saved before models were recorded, as the settings describe it (search only). */
  private legacyRecord: ModelRecord | undefined;
  /** ACL_METADATA_KEY is set: a search must say for whom it reads even before any chunk carries access fields. */
  accessRequired = false;

  private constructor(
    readonly folder: string,
    readonly model: string,
    readonly dims: number,
    /** Whose vectors these are; undefined for a store saved before the identity was recorded. */
    readonly record: ModelRecord | undefined,
    manifest?: Manifest,
  ) {
    this.files = new Map(Object.entries(manifest?.files ?? {}));
    this.generation = manifest?.generation ?? 0;
  }

  /**
   * Opens (or starts) the store in `folder` for a model. A store built with another model is
   * refused; the same model under its other name (a hub id, or the folder scripts/fetch-model made
   * of it) is the same model, as for an Elasticsearch index (model-record.ts).
   */
  static async open(folder: string, writer: ModelRecord): Promise<LocalStore> {
    const manifest = await readManifest(folder);
    if (manifest === undefined) return new LocalStore(folder, writer.source, writer.dims, writer);
    // A store saved before records were kept: its model's name and dims are all it says; prefixes
    // were never checked for it, so the writer's are taken as its own.
    const recorded = manifest.record ?? { ...writer, name: modelSlug(manifest.model), source: manifest.model, dims: manifest.dims };
    const mismatch = modelMismatch(recorded, writer);
    if (mismatch !== undefined) {
      throw new LocalStoreError(
        `${folder} holds vectors of ${mismatch} (built with ${manifest.model}, ${manifest.dims} dims; now ${writer.source}, ${writer.dims} dims). ` +
          'Fix: use another LOCAL_STORE_PATH, or delete the folder to rebuild it.',
      );
    }
    const store = new LocalStore(folder, manifest.model, manifest.dims, recorded, manifest);
    await store.load(manifest.generation);
    return store;
  }

  /**
   * Opens an existing store for reading, whatever model built it. `describeLegacy`: the model of a
   * store saved before it recorded its model, from the name and dims it does record.
   */
  static async openExisting(folder: string, describeLegacy?: (model: string, dims: number) => ModelRecord): Promise<LocalStore> {
    const manifest = await readManifest(folder);
    if (manifest === undefined) {
      throw new LocalStoreError(`no local index in ${folder}. Fix: run \`keda-indexer index <path…>\` first, or set LOCAL_STORE_PATH.`);
    }
    const store = new LocalStore(folder, manifest.model, manifest.dims, manifest.record, manifest);
    store.legacyRecord = manifest.record === undefined ? describeLegacy?.(manifest.model, manifest.dims) : undefined;
    await store.load(manifest.generation);
    return store;
  }

  get description(): string {
    return `local store ${this.folder}`;
  }

  fileEntry(filePath: string): LocalFileEntry | undefined {
    return this.files.get(filePath);
  }

  filePaths(): string[] {
    return [...this.files.keys()];
  }

  get chunkCount(): number {
    let count = 0;
    for (const { chunks } of this.bySource.values()) count += chunks.length;
    return count;
  }

  /**
   * One process owns the store (it is saved whole); its claims are still ordered, as the port
   * promises: a write or removal under a claim older than the file's latest is superseded.
   */
  claim(filePath: string): Promise<WriteClaim> {
    const number = ++this.claimsTaken;
    const token: WriteClaim = Object.freeze({ filePath, sourceId: sourceIdOf(filePath) });
    this.claims.set(token, number);
    this.latestClaim.set(filePath, number);
    return Promise.resolve(token);
  }

  /** Whether `claim` is this store's and the file's latest. */
  private isLatest(claim: WriteClaim): boolean {
    const number = this.claims.get(claim);
    if (number === undefined) throw new Error(`the claim of ${claim.filePath} was not taken from ${this.description}`);
    return this.latestClaim.get(claim.filePath) === number;
  }

  /**
   * Records a file's chunks, replacing what the file had before once every slice is in: a slice
   * that fails leaves the file as it was. The store keeps all vectors in memory anyway (it is
   * saved whole), so collecting the slices costs nothing extra.
   */
  async write(claim: WriteClaim, slices: ChunkSlices, provenance?: ChunkProvenance): Promise<WriteResult> {
    if (!this.isLatest(claim)) return { written: 0, staleDeleted: 0, superseded: true };
    const chunks: StoredChunk[] = [];
    const vectors: Float32Array[] = [];
    for await (const slice of slices) {
      for (const { embedding, ...chunk } of slice) {
        if (embedding.length !== this.dims) throw new LocalStoreError(`vector of ${embedding.length} dims in a ${this.dims}-dim store`);
        chunks.push(chunk);
        vectors.push(Float32Array.from(embedding));
      }
    }
    // A later claim taken while the slices were made wins, as in Elasticsearch.
    if (!this.isLatest(claim)) return { written: 0, staleDeleted: 0, superseded: true };
    const { sourceId, filePath } = claim;
    const previous = this.bySource.get(sourceId)?.chunks.length ?? 0;
    this.bySource.set(sourceId, { chunks, vectors });
    this.files.set(filePath, { sourceId, chunks: chunks.length, ...(provenance === undefined ? {} : { provenance }) });
    return { written: chunks.length, staleDeleted: Math.max(0, previous - chunks.length), superseded: false };
  }

  async remove(claim: WriteClaim): Promise<RemoveResult> {
    await Promise.resolve(); // a claim of another store is refused as a rejection, as in every store
    if (!this.isLatest(claim)) return { removed: 0, superseded: true };
    const { sourceId } = claim;
    const removed = this.bySource.get(sourceId)?.chunks.length ?? 0;
    this.bySource.delete(sourceId);
    this.files.delete(claim.filePath);
    return { removed, superseded: false };
  }

  indexedFrom(filePath: string): Promise<ChunkProvenance | undefined> {
    // With its chunk count, as Elasticsearch's file record gives it back.
    const entry = this.files.get(filePath);
    return Promise.resolve(entry?.provenance === undefined ? undefined : { ...entry.provenance, chunks: entry.chunks });
  }

  /**
   * The local store keeps no "claimed" state that a dead letter would leave behind (a claim lives
   * only in this process), so there is nothing to record; says whether the claim is still the latest.
   */
  async recordDeadLettered(claim: WriteClaim): Promise<boolean> {
    await Promise.resolve();
    return this.isLatest(claim);
  }

  /** Exact search: the query embedded with the store's model, then the k nearest matching chunks (kNN only). */
  async search(query: StoreQuery, embedQuery: EmbedQuery): Promise<StoreSearchResult> {
    const target = { name: this.folder, model: this.record ?? this.legacyRecord };
    // Fail-closed: refused before the model is loaded when chunks carry access fields (or
    // ACL_METADATA_KEY is set) and the search says for no one.
    if (query.reader === undefined && (this.accessRequired || this.accessControlled)) {
      throw new StoreRefusal(`the local store in ${this.folder} is access-controlled: say whose search this is with --as <principal,...>, or --all`, true);
    }
    const vector = await embedQuery(target);
    return { hits: this.nearest(vector, query.k, chunkPredicate(query.filters, query.reader)).map(({ score, chunk }) => hitOf(score, chunk)), target };
  }

  flush(): Promise<void> {
    return this.save();
  }

  checkpoint(): Promise<void> {
    return this.save();
  }

  listFiles(): Promise<string[]> {
    return Promise.resolve(this.filePaths());
  }

  close(): Promise<void> {
    return this.saving;
  }

  /** Whether any chunk carries access fields: a search must then say for whom it reads. */
  get accessControlled(): boolean {
    return [...this.bySource.values()].some(({ chunks }) => hasAccessFields(chunks));
  }

  /**
   * Exact k nearest chunks that `accept` takes (filters and reader: metadata-filter.ts, applied
   * before ranking so k stays k), by cosine similarity (vectors are normalised: a dot product).
   */
  nearest(query: Float32Array, k: number, accept?: (chunk: StoredChunk) => boolean): LocalHit[] {
    if (query.length !== this.dims) throw new LocalStoreError(`query has ${query.length} dims; the store has ${this.dims}`);
    const top: LocalHit[] = [];
    for (const { chunks, vectors } of this.bySource.values()) {
      for (let i = 0; i < chunks.length; i++) {
        const vector = vectors[i];
        const chunk = chunks[i];
        // Filters apply before ranking (metadata-filter.ts), so k stays k.
        if (vector === undefined || chunk === undefined || (accept !== undefined && !accept(chunk))) continue;
        let score = 0;
        for (let d = 0; d < vector.length; d++) score += (vector[d] ?? 0) * (query[d] ?? 0);
        if (top.length < k || score > (top[top.length - 1]?.score ?? -Infinity)) {
          top.push({ score, chunk });
          top.sort((a, b) => b.score - a.score);
          if (top.length > k) top.pop();
        }
      }
    }
    return top;
  }

  /**
   * Writes a new generation of the data files, then swaps the manifest atomically. Callable while
   * files are being written (index's checkpoints): what is saved is the store as it is at the
   * call, chunks and manifest alike, and saves run in call order.
   */
  save(): Promise<void> {
    const snapshot = this.snapshot();
    const run = this.saving.then(() => this.writeGeneration(snapshot));
    // A failed save must not fail every later one; this caller still sees its error.
    this.saving = run.catch(() => undefined);
    return run;
  }

  /** The data and manifest to save, taken synchronously so no write lands in one and not the other. */
  private snapshot(): { lines: string[]; buffer: Buffer; files: Record<string, LocalFileEntry> } {
    const lines: string[] = [];
    const buffer = Buffer.alloc(this.chunkCount * this.dims * 4);
    let offset = 0;
    for (const { chunks, vectors } of this.bySource.values()) {
      chunks.forEach((chunk, i) => {
        lines.push(JSON.stringify(chunk));
        const vector = vectors[i] ?? new Float32Array(this.dims);
        for (const value of vector) {
          buffer.writeFloatLE(value, offset);
          offset += 4;
        }
      });
    }
    return { lines, buffer, files: Object.fromEntries(this.files) };
  }

  private async writeGeneration({ lines, buffer, files }: ReturnType<LocalStore['snapshot']>): Promise<void> {
    const created = await mkdir(this.folder, { recursive: true, mode: FOLDER_MODE });
    // A store saved before modes were set is made private too; a folder of the user's that merely
    // holds the store (LOCAL_STORE_PATH pointed at it) keeps its mode, and the files are 0600.
    if (created === undefined && this.generation > 0) await chmod(this.folder, FOLDER_MODE);
    const generation = this.generation + 1;
    await writePrivate(path.join(this.folder, `chunks-${generation}.jsonl`), lines.length > 0 ? `${lines.join('\n')}\n` : '');
    await writePrivate(path.join(this.folder, `vectors-${generation}.f32`), buffer);
    const manifest: Manifest = {
      format: 1,
      model: this.model,
      dims: this.dims,
      ...(this.record === undefined ? {} : { record: this.record }),
      generation,
      files,
    };
    const temporary = path.join(this.folder, `${MANIFEST}.tmp`);
    await writePrivate(temporary, `${JSON.stringify(manifest, null, 1)}\n`);
    await rename(temporary, path.join(this.folder, MANIFEST));
    this.generation = generation;
    // Only now is the old generation unreferenced.
    for (const name of await readdir(this.folder)) {
      const match = /^(?:chunks|vectors)-(\d+)\.(?:jsonl|f32)$/.exec(name);
      if (match && Number(match[1]) !== generation) await rm(path.join(this.folder, name), { force: true });
    }
  }

  private async load(generation: number): Promise<void> {
    const text = await readFile(path.join(this.folder, `chunks-${generation}.jsonl`), 'utf8');
    const raw = await readFile(path.join(this.folder, `vectors-${generation}.f32`));
    const chunks = text.split('\n').filter((line) => line.length > 0).map((line) => JSON.parse(line) as StoredChunk);
    if (raw.byteLength !== chunks.length * this.dims * 4) {
      throw new LocalStoreError(`${this.folder} is damaged: ${chunks.length} chunks but ${raw.byteLength} bytes of vectors. Fix: delete it and index again.`);
    }
    chunks.forEach((chunk, i) => {
      const vector = new Float32Array(this.dims);
      for (let d = 0; d < this.dims; d++) vector[d] = raw.readFloatLE((i * this.dims + d) * 4);
      const entry = this.bySource.get(chunk.source_id) ?? { chunks: [], vectors: [] };
      entry.chunks.push(chunk);
      entry.vectors.push(vector);
      this.bySource.set(chunk.source_id, entry);
    });
  }
}

function hitOf(score: number, chunk: StoredChunk): SearchHit {
  return {
    score,
    content: chunk.content,
    file_path: chunk.file_path,
    ...(chunk.page_number === undefined ? {} : { page_number: chunk.page_number }),
    ...(chunk.page_end === undefined ? {} : { page_end: chunk.page_end }),
    ...(chunk.section === undefined ? {} : { section: chunk.section }),
    ...(chunk.ocr === undefined ? {} : { ocr: chunk.ocr }),
    ...(chunk.ocr_confidence === undefined ? {} : { ocr_confidence: chunk.ocr_confidence }),
    split_id: chunk.split_id,
    source_id: chunk.source_id,
    ...(chunk.meta === undefined || Object.keys(chunk.meta).length === 0 ? {} : { meta: chunk.meta }),
  };
}

/**
 * Writes a file readable by its owner only. A file left by a crashed save may carry another mode,
 * and writeFile's mode applies to new files only: it is removed first.
 */
async function writePrivate(file: string, data: string | Buffer): Promise<void> {
  await rm(file, { force: true });
  await writeFile(file, data, { mode: FILE_MODE });
}

async function readManifest(folder: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(folder, MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const manifest = JSON.parse(text) as Omit<Manifest, 'format'> & { format: unknown };
  if (manifest.format !== 1) throw new LocalStoreError(`${folder}: unknown store format ${String(manifest.format)}`);
  return manifest as Manifest;
}
