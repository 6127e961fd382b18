// The OCR engine: Tesseract 5's LSTM recogniser, compiled to WebAssembly by tesseract.js.
//
// Why tesseract.js: measured on the same scanned pages (docs/benchmarks.md, "OCR"), it read them
// with a lower character error rate than PaddleOCR's PP-OCRv4 ONNX models (which join English
// words: "atnine onweekdays"), at about twice the pages per CPU-second and a fifth of the memory.
// It is maintained, installs from npm with no native build, and its language data comes from npm
// too (language-data.ts pins it), so nothing is downloaded at run time.
//
// tesseract.js runs the engine in a worker thread of its own, started here inside the converter
// thread: when the sandbox ends a converter thread at its deadline, Node ends that thread's
// threads with it. One engine per converter thread and language list, kept between files (starting
// one reads and unpacks the language model, about a second).
//
// tesseract.js itself is imported when the first engine starts, not with this module: a PDF whose
// pages all have a text layer, or whose scanned pages are blank, never pays for loading it.
import { isMainThread } from 'node:worker_threads';
import type { Worker as TesseractWorker } from 'tesseract.js';
import { verifiedLanguagePath } from './language-data.js';
import { toPgm, type GreyImage } from './raster.js';

export interface PageReading {
  readonly text: string;
  /** The engine's mean word confidence, 0 to 1. */
  readonly confidence: number;
}

export interface OcrEngine {
  /**
   * Reads grey pixels, or an encoded PNG, JPEG, WebP or BMP that the engine decodes itself (with
   * Leptonica, inside WebAssembly, where a malformed file can fail but not crash the process).
   */
  read(image: GreyImage | EncodedImage): Promise<PageReading>;
}

export interface EncodedImage {
  readonly encoded: Uint8Array;
}

const engines = new Map<string, Promise<TesseractWorker>>();

/**
 * In a process that converts in place (tests, tools) an engine's thread would keep the process
 * alive for ever: it is ended after this long unused. Converter processes keep theirs
 * (KEDA_INDEXER_CONVERTER_PROCESS); the sandbox ends them with the process.
 */
const MAIN_THREAD_IDLE_MS = 2000;
let idleTimer: NodeJS.Timeout | undefined;
/**
 * Set in a converter process's environment (convert/sandbox.ts): its engines live as long as it
 * does. Read here rather than set by the sandbox, so the sandbox never loads tesseract.js itself.
 */
const IN_CONVERTER_PROCESS = process.env.KEDA_INDEXER_CONVERTER_PROCESS === '1';

/** Reads in progress: the idle timer runs only while there are none. */
let reading = 0;

/**
 * A read starts: the idle timer stops. Re-armed only when a read ended, it once fired during a
 * read slower than it (a loaded machine), ended the engine under the pending job, and the process,
 * with nothing left to wait on, exited in the middle of a file.
 */
function busy(): void {
  reading++;
  clearTimeout(idleTimer);
}

function idle(): void {
  reading--;
  if (!isMainThread || IN_CONVERTER_PROCESS || reading > 0) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void stopOcrEngines(), MAIN_THREAD_IDLE_MS);
  idleTimer.unref();
}

async function startEngine(languages: readonly string[]): Promise<TesseractWorker> {
  const langPath = await verifiedLanguagePath(languages);
  const { createWorker, OEM } = await import('tesseract.js');
  return createWorker([...languages], OEM.LSTM_ONLY, {
    langPath,
    gzip: true,
    // Read the verified files each start; never write a cache beside the process's working folder.
    cacheMethod: 'none',
    // Without a handler, tesseract.js also throws a failed job's error where nothing can catch it
    // (an uncaught exception in the converter thread); the job's promise carries it anyway.
    errorHandler: () => undefined,
  });
}

function engineFor(languages: readonly string[]): Promise<TesseractWorker> {
  const key = languages.join('+');
  let worker = engines.get(key);
  if (worker === undefined) {
    worker = startEngine(languages);
    engines.set(key, worker);
    // A failed start is not kept: the next file tries again (and fails with the same message).
    worker.catch(() => engines.delete(key));
  }
  return worker;
}

/** The engine for `languages` (Tesseract codes); its thread starts at the first page it reads. */
export function ocrEngine(languages: readonly string[]): OcrEngine {
  return {
    async read(image) {
      const input = 'encoded' in image ? image.encoded : toPgm(image);
      busy();
      try {
        const { data } = await (await engineFor(languages)).recognize(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
        return { text: data.text, confidence: Math.max(0, Math.min(1, data.confidence / 100)) };
      } finally {
        idle();
      }
    },
  };
}

/** Ends every engine this thread started (tests; a converter thread's end does it anyway). */
export async function stopOcrEngines(): Promise<void> {
  clearTimeout(idleTimer);
  const workers = [...engines.values()];
  engines.clear();
  await Promise.all(workers.map(async (worker) => (await worker.catch(() => undefined))?.terminate()));
}
