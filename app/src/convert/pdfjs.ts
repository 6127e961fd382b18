// Loads pdfjs-dist's legacy build (the build that runs on Node 20) without letting it slow the
// rest of the worker down.
//
// The legacy build bundles core-js, which on Node 20 replaces some built-ins for the whole
// process with JavaScript versions: JSON.stringify and JSON.parse (for JSON.rawJSON support),
// Array.prototype.push (for an edge case of non-writable lengths) and Function.prototype.toString.
// After the first PDF every bulk body, log line and tokenizer push went through them: measured
// here, JSON.stringify of an embedding vector and Array.prototype.push ran several times slower
// (docs/benchmarks.md).
// pdfjs needs what core-js adds (Promise.withResolvers, Uint8Array.fromBase64, Map.getOrInsert…),
// not those replacements, so the built-ins that existed before are put back after both modules
// load. The worker module is loaded here too, not at the first getDocument, so that its copy of
// core-js runs before the restore; pdfjs then finds it on globalThis.pdfjsWorker and uses it
// instead of importing it (its "fake worker", on the main thread, as in Node it always is).

/** Built-in objects whose own properties pdfjs's core-js may replace. */
const BUILT_INS: readonly object[] = [
  JSON,
  Math,
  Object,
  Array,
  Array.prototype,
  String,
  String.prototype,
  Number,
  Promise,
  Promise.prototype,
  Map.prototype,
  Set.prototype,
  Function.prototype,
  Object.getPrototypeOf(Uint8Array.prototype) as object,
  Uint8Array,
  Uint8Array.prototype,
  ArrayBuffer.prototype,
  RegExp.prototype,
  Reflect,
];

type Snapshot = Map<object, Map<PropertyKey, PropertyDescriptor>>;

function snapshot(): Snapshot {
  return new Map(
    BUILT_INS.map((target) => [
      target,
      new Map(Reflect.ownKeys(target).flatMap((key) => {
        const descriptor = Object.getOwnPropertyDescriptor(target, key);
        return descriptor === undefined ? [] : [[key, descriptor] as const];
      })),
    ]),
  );
}

/** Puts back every function-valued property that `before` had and that has since been replaced. */
function restore(before: Snapshot): void {
  for (const [target, properties] of before) {
    for (const [key, descriptor] of properties) {
      if (typeof descriptor.value !== 'function') continue;
      const now = Object.getOwnPropertyDescriptor(target, key);
      if (now?.value === descriptor.value) continue;
      Object.defineProperty(target, key, descriptor);
    }
  }
}

/** Loaded for what it does on import (sets globalThis.pdfjsWorker); pdfjs-dist has no types for it. */
const WORKER_MODULE: string = 'pdfjs-dist/legacy/build/pdf.worker.mjs';

const before = snapshot();
const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
await import(WORKER_MODULE);
restore(before);

export const { getDocument } = pdfjs;
export type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
