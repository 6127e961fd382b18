// Where transformers.js finds the model's files: a cache in its custom-cache format that hands
// ONNX files over by path.
//
// Why not its own file cache: transformers.js 4 opens every file it looks up as a stream that
// starts reading at once into a queue nobody drains, even when it then gives onnxruntime the
// path. The whole model was read into JavaScript memory beside onnxruntime's own copy and held
// until a major garbage collection, minutes later in a worker (docs/benchmarks.md has what that
// cost). Given a path string by the cache,
// transformers.js passes it straight to onnxruntime and reads nothing.
//
// Layout on disk is the one transformers.js's file cache uses (`<cacheDir>/<model id>/<file>`,
// `<cacheDir>/<model id>/<revision>/<file>` for other revisions), so a cache folder filled by it,
// by an image build or by an earlier version is used as is.
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** Files onnxruntime opens itself: the graph and its external weights. */
const ONNX_FILE = /\.onnx(_data(_\d+)?)?$/;

export interface ModelFileCacheOptions {
  /**
   * Folder holding `<model id>/...`: the cache folder for a hub id, or the parent of a local
   * model folder (whose name then serves as the model id).
   */
  readonly root: string;
  /** transformers.js's `env.remoteHost`, e.g. https://huggingface.co/ */
  readonly remoteHost: string;
}

/** Implements the `match` and `put` that transformers.js asks of `env.customCache`. */
export class ModelFileCache {
  constructor(private readonly options: ModelFileCacheOptions) {}

  /**
   * The file on disk for a key transformers.js looks up: a path (the local folder it would read),
   * or a hub URL `<remoteHost><model id>/resolve/<revision>/<file>`. Either must land inside root.
   */
  fileFor(key: string): string | undefined {
    const root = path.resolve(this.options.root);
    let file: string | undefined;
    if (path.isAbsolute(key)) {
      file = path.resolve(key);
    } else {
      const host = this.options.remoteHost.endsWith('/') ? this.options.remoteHost : `${this.options.remoteHost}/`;
      const match = key.startsWith(host) ? /^(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(key.slice(host.length)) : null;
      if (!match) return undefined;
      const [, model = '', revision = '', name = ''] = match;
      const decoded = decodeURIComponent(revision);
      file = path.resolve(root, ...(decoded === 'main' ? [model, name] : [model, decoded, name]));
    }
    // Never outside the root, whatever `..` a model id or file name holds.
    return file.startsWith(root + path.sep) ? file : undefined;
  }

  async match(key: string): Promise<string | Response | undefined> {
    const file = this.fileFor(key);
    if (file === undefined || !existsSync(file)) return undefined;
    if (ONNX_FILE.test(file)) return file;
    const bytes = await readFile(file);
    return new Response(bytes, { headers: { 'content-length': String(bytes.byteLength) } });
  }

  /** Stores a download: written beside its final name first, so a cut download leaves no file. */
  async put(key: string, response: Response): Promise<void> {
    const file = this.fileFor(key);
    if (file === undefined || response.body === null) return;
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial-${process.pid}`;
    // Opened before the copy starts: a write stream given only a name opens it later, and a body
    // that fails at once lets the cleanup below run before that open, which then leaves the file.
    const handle = await open(partial, 'w');
    try {
      await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), handle.createWriteStream());
      await rename(partial, file);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(partial, { force: true });
      throw error;
    }
  }
}
