// onnxruntime sessions in a worker thread of their own, plugged in where transformers.js creates
// them: an onnxruntime backend (onnxruntime-common's extension point, the one onnxruntime-node
// itself registers through) whose sessions live in a thread.
//
// Why a thread: onnxruntime-node loads a model and runs a session synchronously on the calling
// thread. On the main thread that blocked the event loop for every model call (10 of the worker's
// 16 main-thread CPU seconds in a profile) and for the whole model load at start, so nothing else
// of the worker ran meanwhile: not the Elasticsearch checks and imports that a start also needs,
// and, with a GPU doing the model's work, not the conversion of the next files. In a thread the
// main thread goes on while the model loads and runs (docs/benchmarks.md, "the model in a thread
// of its own").
//
// Why this way round: transformers.js keeps choosing the model file, the weights for the dtype,
// external data and session options, and calls `InferenceSession.create` as ever; only where the
// session runs changes. Selected by naming the backend in the session options'
// executionProviders (modelThreadBackend()), not by taking over the names `cpu` and `cuda`:
// onnxruntime-common keeps the first backend registered under a name, and onnxruntime-node
// registers its own when it is first required, so overriding depended on module load order.
//
// This module is loaded by a dynamic import (embedder.ts), so the bundle keeps it in a file of its
// own, and the thread runs that same file: the thread loads onnxruntime-node and nothing of the
// worker's code.
import { createRequire } from 'node:module';
import { isMainThread, parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { threadEntryOf } from '../thread-entry.js';
import type { ResolvedDevice } from './choices.js';
import type { Backend, InferenceSession, InferenceSessionHandler, OnnxValue, SessionHandler, Tensor } from 'onnxruntime-common';

/** Execution providers the thread can run a session on. */
export type ThreadDevice = ResolvedDevice;

/** The execution-provider name that selects a thread session on `device`. */
export function modelThreadBackend(device: ThreadDevice): string {
  return `keda-indexer-thread-${device}`;
}

const THREAD_ROLE = 'keda-indexer-model-thread';

/** A tensor as it crosses between threads. */
interface WireTensor {
  readonly type: Tensor.Type;
  readonly dims: readonly number[];
  readonly data: Tensor.DataType;
}

type Request =
  | { readonly id: number; readonly kind: 'create'; readonly model: string | Uint8Array; readonly options: InferenceSession.SessionOptions }
  | { readonly id: number; readonly kind: 'run'; readonly feeds: Record<string, WireTensor>; readonly fetches: readonly string[] }
  | { readonly id: number; readonly kind: 'dispose' };

interface SessionShape {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request to the thread, before it is numbered. */
export type ModelRequest = DistributiveOmit<Request, 'id'>;

type Reply =
  | { readonly id: number; readonly ok: true; readonly value: SessionShape | Record<string, WireTensor> | null }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string; readonly stack: string | undefined } };

function asWire(value: OnnxValue | null | undefined, name: string): WireTensor {
  if (value === null || value === undefined || value.location !== 'cpu') {
    throw new Error(`model value ${name}: only tensors in CPU memory cross to or from the model thread`);
  }
  return { type: value.type, dims: value.dims, data: value.data };
}

// ---------------------------------------------------------------------------------------------
// Main thread: the backend and its session handlers.

/** Starts the thread that runs this file's `serve`. */
function startModelThread(): Worker {
  const [entry, evaluated] = threadEntryOf(import.meta.url);
  return new Worker(entry, { ...evaluated, workerData: { role: THREAD_ROLE } });
}

/**
 * One thread running one session; requests answered in order. Exported, with the thread it
 * supervises as a parameter, so that a test can watch how it takes a thread's death.
 */
export class ModelThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (value: Reply) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private exited: Error | undefined;
  private terminating = false;

  constructor(start: () => Worker = startModelThread) {
    this.worker = start();
    this.worker.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      waiting?.resolve(reply);
    });
    // An uncaught error in the thread comes as 'error', then 'exit'; a thread that ends itself
    // comes as 'exit' alone. Either way it is dead.
    this.worker.on('error', (error) => {
      this.died(new Error(`the model thread failed: ${error.message}`, { cause: error }));
    });
    this.worker.on('exit', (code) => {
      this.died(new Error(`the model thread exited (code ${code})`));
    });
    // An idle thread must not keep a finished command alive; one with a request out must. Unref'd
    // after the listeners are added: on Node 20 adding a 'message' listener refs the thread's
    // port again, and a spare thread then held every command open after it failed.
    this.worker.unref();
  }

  /**
   * A thread that dies on its own leaves a worker that can no longer embed anything, and every
   * file it took would fail (and in the end be dead-lettered) for that: the process ends instead,
   * as a crash of onnxruntime in the main thread would, so that it is restarted and its messages
   * return to the queue. It ends on the next tick, before the rejected calls' handlers run: a file
   * must not be recorded as failed, or dead-lettered, for this.
   */
  private died(error: Error): void {
    const first = this.exited === undefined;
    this.fail(error);
    if (first && !this.terminating) {
      process.nextTick(() => {
        throw error;
      });
    }
  }

  private fail(error: Error): void {
    this.exited ??= error;
    for (const waiting of this.pending.values()) waiting.reject(this.exited);
    this.pending.clear();
  }

  /** Sends one request (ModelRequest) and waits for its answer. */
  async request(request: ModelRequest): Promise<unknown> {
    if (this.exited !== undefined) throw this.exited;
    const id = this.nextId++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...request, id });
    });
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack ?? reply.error.message });
    return reply.value;
  }

  async terminate(): Promise<void> {
    this.terminating = true;
    await this.worker.terminate();
  }
}

class ThreadSessionHandler implements InferenceSessionHandler {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly InferenceSession.ValueMetadata[];

  constructor(
    private readonly thread: ModelThread,
    shape: SessionShape,
  ) {
    ({ inputNames: this.inputNames, outputNames: this.outputNames, inputMetadata: this.inputMetadata, outputMetadata: this.outputMetadata } = shape);
  }

  async run(feeds: SessionHandler.FeedsType, fetches: SessionHandler.FetchesType): Promise<SessionHandler.ReturnType> {
    // Inputs are copied, not transferred: the caller keeps using them (the attention mask pools
    // the output). They are a few KB; the output, transferred back, is the large part.
    const wireFeeds = Object.fromEntries(Object.entries(feeds).map(([name, value]) => [name, asWire(value, name)]));
    for (const [name, value] of Object.entries(fetches)) {
      if (value !== null) throw new Error(`model output ${name}: pre-allocated outputs are not supported by the model thread`);
    }
    // onnxruntime-common wraps the plain {type, data, dims} objects returned here in its Tensor.
    return (await this.thread.request({ kind: 'run', feeds: wireFeeds, fetches: Object.keys(fetches) })) as SessionHandler.ReturnType;
  }

  async dispose(): Promise<void> {
    try {
      await this.thread.request({ kind: 'dispose' });
    } finally {
      await this.thread.terminate();
    }
  }

  startProfiling(): void {
    // Profiling is switched on by the session options at load (enableProfiling), as in onnxruntime-node.
  }

  endProfiling(): void {
    // The profile file is written when the session is released (dispose).
  }
}

/** Threads started ahead of a session, so onnxruntime-node loads while the main thread works on. */
const spares: ModelThread[] = [];

/** A session a thread started loading before anyone asked for it (preloadSession). */
interface Preloaded {
  readonly thread: ModelThread;
  readonly model: string;
  readonly device: ThreadDevice;
  readonly options: InferenceSession.SessionOptions;
  readonly shape: Promise<SessionShape>;
}

let preloaded: Preloaded | undefined;

/** What became of a preloaded session: the session asked for used it, or it was dropped. */
export type PreloadOutcome = 'none' | 'used' | 'missed';
let outcome: PreloadOutcome = 'none';

/** The outcome for the session created last, once: a later session reports 'none'. */
export function takePreloadOutcome(): PreloadOutcome {
  const taken = outcome;
  outcome = 'none';
  return taken;
}

/**
 * Options that decide what a session is. The log level only changes what onnxruntime prints, and
 * the execution providers name this backend (the device is compared on its own).
 */
function sessionKey(options: InferenceSession.SessionOptions): string {
  const decisive = Object.entries(options).filter(([name]) => name !== 'logSeverityLevel' && name !== 'executionProviders');
  return JSON.stringify(decisive.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function loadIn(thread: ModelThread, model: string | Uint8Array, device: ThreadDevice, options: InferenceSession.SessionOptions): Promise<SessionShape> {
  // The execution providers onnxruntime-common hands over name this backend; the thread's
  // onnxruntime-node gets the real one.
  return thread.request({ kind: 'create', model, options: { ...options, executionProviders: [device] } }) as Promise<SessionShape>;
}

/**
 * Starts loading a session before transformers.js asks for it: the worker knows which weights and
 * options it will run with (session-plan.ts) before its own code has loaded. The first session
 * asked for on the same file, device and options takes it; any other request loads its own, and
 * the preloaded one is dropped.
 */
export function preloadSession(model: string, device: ThreadDevice, options: InferenceSession.SessionOptions): void {
  registerModelThreadBackend();
  if (preloaded !== undefined) return;
  const thread = spares.pop() ?? new ModelThread();
  const shape = loadIn(thread, model, device, options);
  // A failed preload is reported to the session request that claims it, or to nobody; its thread
  // is of no more use either way.
  shape.catch(() => thread.terminate());
  preloaded = { thread, model, device, options, shape };
}

function claimPreloaded(model: string | Uint8Array, device: ThreadDevice, options: InferenceSession.SessionOptions): Preloaded | undefined {
  const candidate = preloaded;
  if (candidate === undefined) return undefined;
  preloaded = undefined;
  if (candidate.model === model && candidate.device === device && sessionKey(candidate.options) === sessionKey(options)) {
    outcome = 'used';
    return candidate;
  }
  outcome = 'missed';
  void candidate.thread.terminate();
  return undefined;
}

/**
 * onnxruntime could not create a session: the weights file is unreadable or not a model. The
 * reason is onnxruntime's, less its "Load model from <file> failed:" preamble (the file is kept
 * apart, for the embedder's message).
 */
export class ModelSessionError extends Error {
  override readonly name = 'ModelSessionError';
  readonly reason: string;

  constructor(
    readonly file: string | undefined,
    error: unknown,
  ) {
    const message = error instanceof Error ? error.message : String(error);
    const reason = message.replace(/^Load model from .*? failed: ?/s, '').replace(/\.+$/, '');
    super(`onnxruntime could not load ${file ?? 'the model'}: ${reason}`, { cause: error });
    this.reason = reason;
  }
}

function threadBackend(device: ThreadDevice): Backend {
  return {
    init: async () => {},
    createInferenceSessionHandler: async (model, options = {}) => {
      const claimed = claimPreloaded(model, device, options);
      const thread = claimed?.thread ?? spares.pop() ?? new ModelThread();
      try {
        return new ThreadSessionHandler(thread, await (claimed?.shape ?? loadIn(thread, model, device, options)));
      } catch (error) {
        await thread.terminate();
        throw new ModelSessionError(typeof model === 'string' ? model : undefined, error);
      }
    },
  };
}

let registered = false;

/**
 * Registers the thread backends (`modelThreadBackend('cpu' | 'cuda')`) with the onnxruntime-common
 * that onnxruntime-node and transformers.js use, and starts one thread ahead, so that loading
 * onnxruntime in it overlaps what the caller does before it asks for a session.
 */
export function registerModelThreadBackend(): void {
  if (registered) return;
  registered = true;
  // required, not imported: onnxruntime-node requires onnxruntime-common, and the package's
  // ESM entry would be a second copy with a backend registry of its own.
  const require = createRequire(import.meta.url);
  const { registerBackend } = require('onnxruntime-common') as typeof import('onnxruntime-common');
  for (const device of ['cpu', 'cuda'] as const) registerBackend(modelThreadBackend(device), threadBackend(device), -1);
  spares.push(new ModelThread());
}

// ---------------------------------------------------------------------------------------------
// The thread: one onnxruntime-node session, driven by the main thread's requests.

function serve(port: MessagePort): void {
  const require = createRequire(import.meta.url);
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-common');
  let session: InferenceSession | undefined;

  const answer = async (request: Request): Promise<{ value: SessionShape | Record<string, WireTensor> | null; transfer: ArrayBuffer[] }> => {
    switch (request.kind) {
      case 'create': {
        const { model, options } = request;
        session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
        const { inputNames, outputNames, inputMetadata, outputMetadata } = session;
        return { value: { inputNames, outputNames, inputMetadata, outputMetadata } satisfies SessionShape, transfer: [] };
      }
      case 'run': {
        if (session === undefined) throw new Error('no session loaded in the model thread');
        const feeds = Object.fromEntries(Object.entries(request.feeds).map(([name, wire]) => [name, new ort.Tensor(wire.type, wire.data as never, wire.dims)]));
        const outputs = request.fetches.length > 0 ? await session.run(feeds, [...request.fetches]) : await session.run(feeds);
        const value: Record<string, WireTensor> = {};
        const transfer = new Set<ArrayBuffer>();
        for (const [name, output] of Object.entries(outputs)) {
          value[name] = asWire(output, name);
          const buffer = (output.data as { buffer?: unknown }).buffer;
          if (buffer instanceof ArrayBuffer) transfer.add(buffer);
        }
        return { value, transfer: [...transfer] };
      }
      case 'dispose':
        await session?.release();
        session = undefined;
        return { value: null, transfer: [] };
    }
  };

  // Requests run one after another: a session call is synchronous here anyway.
  let queue = Promise.resolve();
  port.on('message', (request: Request) => {
    queue = queue.then(async () => {
      try {
        const { value, transfer } = await answer(request);
        try {
          port.postMessage({ id: request.id, ok: true, value } satisfies Reply, transfer);
        } catch {
          // A buffer onnxruntime still owns cannot be moved; send a copy.
          port.postMessage({ id: request.id, ok: true, value } satisfies Reply);
        }
      } catch (error) {
        const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
        port.postMessage({ id: request.id, ok: false, error: { name, message, stack } } satisfies Reply);
      }
    });
  });
}

if (!isMainThread && parentPort !== null && (workerData as { role?: unknown } | null)?.role === THREAD_ROLE) serve(parentPort);
