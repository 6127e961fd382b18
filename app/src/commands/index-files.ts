// `keda-indexer index <path…>`: the worker's convert → split → embed → sink line on local files,
// into the store the settings chose (runtime.ts). Files unchanged since they were indexed (same
// size and modification time, same model and split settings) are skipped. Where the store can list
// its files (the local store), files deleted from an indexed folder also lose their chunks, so
// re-running on a folder brings that index up to date.
//
// A run keeps what it did: a store that saves in checkpoints (the local store) saves every
// LOCAL_STORE_CHECKPOINT_FILES files or LOCAL_STORE_CHECKPOINT_SECONDS seconds (a crash loses at
// most that much), a folder that cannot
// be read is reported and skipped (its files keep their chunks), and FETCH_MAX_BYTES holds before
// a file is read, as it does for the worker's downloads.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Settings } from '../config/config.js';
import { SUPPORTED_EXTENSIONS } from '../convert/registry.js';
import { isSidecarKey } from '../metadata/sidecar.js';
import { callOverheadTokens, EmbedBatcher } from '../embed/batcher.js';
import { PermanentError } from '../failure.js';
import { createLogger } from '../observe/logger.js';
import { FileIndexer } from '../pipeline/index-file.js';
import { buildRuntime } from '../runtime.js';
import { modelRecordOf } from '../store/model-record.js';
import { StoreStartupError, type ChunkStore } from '../store/port.js';
import { printable } from '../terminal-safe.js';
import { ExitCode, UserError } from './common.js';
import { cliLogLevel, loadEmbedder } from './runtime.js';

export interface IndexIo {
  readonly out: NodeJS.WriteStream;
  readonly err: NodeJS.WriteStream;
}

interface FoundFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);

/** What the walk found: files to index, inputs that do not exist, and what could not be read. */
interface Walk {
  readonly found: FoundFile[];
  readonly missing: string[];
  /** Folders (or files) that could not be listed or stat'ed, with the error code. */
  readonly unreadable: { readonly path: string; readonly code: string }[];
}

const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));

/**
 * Supported files under `root` (or `root` itself), recursively; hidden folders are skipped. A
 * folder or file that cannot be read is recorded and the walk goes on.
 */
async function findFiles(root: string, walk: Walk): Promise<void> {
  let info;
  try {
    info = await stat(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') walk.missing.push(root);
    else walk.unreadable.push({ path: root, code: codeOf(error) });
    return;
  }
  if (info.isFile()) {
    walk.found.push({ path: root, size: info.size, mtimeMs: info.mtimeMs });
    return;
  }
  if (!info.isDirectory()) return;
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (error) {
    walk.unreadable.push({ path: root, code: codeOf(error) });
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && !SKIPPED_DIRECTORIES.has(entry.name)) await findFiles(full, walk);
    } else if (entry.isFile() && SUPPORTED_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()) && !isSidecarKey(entry.name)) {
      // `<file>.metadata.json` is a metadata sidecar, never a document (as in S3).
      try {
        const fileInfo = await stat(full);
        walk.found.push({ path: full, size: fileInfo.size, mtimeMs: fileInfo.mtimeMs });
      } catch (error) {
        // Gone since the listing: nothing to index, and its chunks go with the removal pass.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') walk.unreadable.push({ path: full, code: codeOf(error) });
      }
    }
  }
}

const tooLarge = (file: string, size: number, maxBytes: number) =>
  new PermanentError('too_large', `${path.basename(file)} is ${size} bytes, over the ${maxBytes}-byte limit (FETCH_MAX_BYTES)`);

/**
 * A local file's bytes, refused before they are read when the file is over `maxBytes`, and cut off
 * at `maxBytes` + 1 should it grow meanwhile (the cap holds on the bytes read, as for S3).
 */
export async function readCapped(file: string, maxBytes: number): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new PermanentError('unsupported_type', 'not a regular file');
    if (info.size > maxBytes) throw tooLarge(file, info.size, maxBytes);
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw tooLarge(file, total, maxBytes);
      parts.push(buffer.subarray(0, bytesRead));
    }
    return new Uint8Array(Buffer.concat(parts, total));
  } finally {
    await handle.close();
  }
}

/**
 * What stands for an S3 ETag on a local file, recorded with its chunks: the size and modification
 * time (reading and hashing every file to find it unchanged would cost what indexing a small one
 * does).
 */
export function localFileTag(file: { readonly size: number; readonly mtimeMs: number }): string {
  return `local:${file.size}:${file.mtimeMs}`;
}

function isUnder(file: string, roots: readonly string[]): boolean {
  return roots.some((root) => file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
}

/**
 * Progress on a terminal: one bar with files, chunks, rate and ETA, and failures listed when it
 * ends (lines written under a live bar would be overdrawn). Elsewhere: one plain line per file.
 */
class Progress {
  private readonly bar: SingleBar | undefined;
  private readonly started = performance.now();
  private readonly failures: string[] = [];
  private files = 0;
  private chunks = 0;

  constructor(
    private readonly io: IndexIo,
    total: number,
  ) {
    if (io.err.isTTY && total > 0) {
      this.bar = new SingleBar({
        format: 'indexing [{bar}] {value}/{total} files | {chunks} chunks | {rate} files/s | ETA {eta_formatted}',
        hideCursor: true,
        stream: io.err,
      });
      this.bar.start(total, 0, { chunks: 0, rate: '0.0' });
    }
  }

  done(file: string, chunks: number, note = ''): void {
    this.chunks += chunks;
    this.advance();
    if (!this.bar) this.io.err.write(`indexed   ${printable(file)} (${chunks} chunks)${note}\n`);
  }

  /** A checkpoint of the store: said in the plain output, silent under a bar. */
  saved(store: string, files: number): void {
    if (!this.bar) this.io.err.write(`saved     ${printable(store)} (${files} file(s) indexed so far)\n`);
  }

  failed(file: string, reason: string, message: string): void {
    const line = `failed    ${printable(file)}: ${reason}: ${printable(message)}\n`;
    this.advance();
    if (this.bar) this.failures.push(line);
    else this.io.err.write(line);
  }

  stop(): void {
    this.bar?.stop();
    for (const line of this.failures) this.io.err.write(line);
  }

  private advance(): void {
    this.files++;
    const rate = this.files / Math.max(0.001, (performance.now() - this.started) / 1000);
    this.bar?.increment(1, { chunks: this.chunks, rate: rate.toFixed(1) });
  }
}

async function mapConcurrent<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await work(item);
    }
  });
  await Promise.all(runners);
}

export async function runIndex(settings: Settings, inputs: readonly string[], io: IndexIo): Promise<number> {
  const started = performance.now();
  const roots = inputs.map((input) => path.resolve(input));
  const walk: Walk = { found: [], missing: [], unreadable: [] };
  for (const root of roots) await findFiles(root, walk);
  const { found, missing, unreadable } = walk;
  for (const root of missing) io.err.write(`failed    ${printable(root)}: no such file or folder\n`);
  for (const { path: where, code } of unreadable) io.err.write(`failed    ${printable(where)}: cannot be read (${printable(code)}); skipped, its chunks kept\n`);

  const logger = createLogger({ level: cliLogLevel(settings) });
  const embedder = await loadEmbedder(settings, logger);
  const { store: provider } = buildRuntime(settings);
  let store: ChunkStore | undefined;
  try {
    try {
      store = await provider.openForWriting(modelRecordOf(embedder, embedder.dimensions));
    } catch (error) {
      if (error instanceof StoreStartupError) throw new UserError(error.message);
      throw new UserError(`${provider.description} is not usable: ${(error as Error).message}`);
    }
    const sink = store;

    const indexer = new FileIndexer(embedder, new EmbedBatcher(embedder, { batchTokens: settings.embedding.batchTokens, callOverheadTokens: callOverheadTokens(embedder.device, settings.embedding.batchTokens), lingerMs: 5 }), sink, settings, undefined, { converterLogger: logger });
    const counts = { indexed: 0, unchanged: 0, removed: 0, failed: missing.length + unreadable.length, chunks: 0 };
    const isUnchanged = (file: FoundFile): Promise<boolean> => indexer.isUnchanged(file.path, localFileTag(file));
    const unchanged = new Array<boolean>(found.length).fill(false);
    await mapConcurrent([...found.keys()], settings.worker.concurrency, async (i) => {
      const file = found[i];
      if (file !== undefined) unchanged[i] = await isUnchanged(file);
    });
    const toIndex = found.filter((_, i) => !unchanged[i]);
    counts.unchanged = found.length - toIndex.length;

    const progress = new Progress(io, toIndex.length);
    const { maxBytes } = settings.fetch;
    // Checkpoints: the store is saved as the run goes, so a crash keeps what was saved before it.
    let sinceSave = 0;
    let savedAt = performance.now();
    const checkpoint = async (): Promise<void> => {
      if (sink.checkpoint === undefined) return;
      sinceSave++;
      const { checkpointFiles, checkpointSeconds } = settings.localStore;
      if (sinceSave < checkpointFiles && performance.now() - savedAt < checkpointSeconds * 1000) return;
      sinceSave = 0;
      savedAt = performance.now();
      const indexedSoFar = counts.indexed;
      await sink.checkpoint();
      progress.saved(sink.description, indexedSoFar);
    };
    await mapConcurrent(toIndex, settings.worker.concurrency, async (file) => {
      let indexed = false;
      try {
        // The size the walk saw, before anything is read or claimed; readCapped checks it again.
        if (file.size > maxBytes) throw tooLarge(file.path, file.size, maxBytes);
        // Claimed before reading, as the worker does: another writer of the same path then orders after.
        const claim = await indexer.claim(file.path);
        const bytes = await readCapped(file.path, maxBytes);
        const object = { etag: localFileTag(file), lastModified: new Date(file.mtimeMs).toISOString() };
        const result = await indexer.index({ bytes, fileName: path.basename(file.path), filePath: file.path, object }, claim);
        counts.indexed++;
        counts.chunks += result.chunks;
        // A file OCR's budget stopped is indexed as far as OCR got, and says so.
        const stopped = result.ocr?.stopped;
        const unread = stopped?.unreadFrom === undefined ? '' : `; pages from ${stopped.unreadFrom} on not read (CONVERT_MAX_SECONDS)`;
        progress.done(file.path, result.chunks, stopped === undefined ? '' : `; OCR stopped by OCR_MAX_${stopped.limit === 'pages' ? 'PAGES' : 'SECONDS'} after ${stopped.pagesRead} of ${stopped.unreadFrom === undefined ? '' : 'at least '}${stopped.pagesNeedingOcr} pages${unread}`);
        indexed = true;
      } catch (error) {
        counts.failed++;
        const reason = error instanceof Error && 'reason' in error && typeof error.reason === 'string' ? error.reason : 'error';
        progress.failed(file.path, reason, error instanceof Error ? error.message : String(error));
      }
      // Outside the file's try: a store that cannot be saved is not this file's failure.
      if (indexed) await checkpoint();
    });
    progress.stop();

    if (sink.listFiles !== undefined) {
      const present = new Set(found.map((file) => file.path));
      // Not seen because it could not be read is not gone: those files keep their chunks.
      const unseen = unreadable.map((entry) => entry.path);
      for (const filePath of await sink.listFiles()) {
        if (isUnder(filePath, roots) && !isUnder(filePath, unseen) && !present.has(filePath)) {
          await sink.remove(await sink.claim(filePath));
          counts.removed++;
          io.err.write(`removed   ${printable(filePath)}\n`);
        }
      }
    }
    // A person who indexes and then searches expects to find what was just indexed: the local
    // store saves, Elasticsearch refreshes (the worker leaves that to its refresh interval).
    await sink.flush();

    const seconds = (performance.now() - started) / 1000;
    io.out.write(
      `Indexed ${counts.indexed} file(s) (${counts.chunks} chunks), ${counts.unchanged} unchanged, ${counts.removed} removed, ` +
        `${counts.failed} failed in ${seconds.toFixed(1)} s into ${sink.description}.\n`,
    );
    return counts.failed > 0 ? ExitCode.failure : ExitCode.ok;
  } finally {
    await embedder.dispose();
    await store?.close();
    await provider.close();
  }
}
