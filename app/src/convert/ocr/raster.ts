// Pages as greyscale pixels, the one input the OCR engine is given: decoded images and rendered
// PDF pages both end here, scaled to a bounded working size, so what OCR holds per page is bounded
// whatever the file declares.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createCanvas, type Canvas, type Image } from '@napi-rs/canvas';

/** 8-bit greyscale, row-major, one byte per pixel. */
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly pixels: Uint8Array;
}

/**
 * Most pixels an image may declare before anything decodes it: decoding is where an image bomb
 * (a few KB declaring 100,000 × 100,000 pixels) costs its memory. An A4 page scanned at 600 dpi
 * is 35 MP, an A3 one 70 MP.
 */
export const MAX_DECLARED_PIXELS = 80_000_000;

/**
 * Most pixels OCR works on per page: larger pages are scaled down first. 12 MP is an A4 page at
 * about 350 dpi, past which recognition gains nothing (docs/benchmarks.md, "OCR").
 */
export const MAX_WORKING_PIXELS = 12_000_000;

/** The size to work at: `width` × `height` scaled down (never up) to at most `maxPixels`. */
export function workingSize(width: number, height: number, maxPixels = MAX_WORKING_PIXELS): { width: number; height: number } {
  const pixels = width * height;
  if (pixels <= maxPixels) return { width, height };
  const scale = Math.sqrt(maxPixels / pixels);
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** ITU-R BT.601 luma of RGBA pixels, over white where transparent (a scan's paper). */
export function greyOfRgba(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): GreyImage {
  const pixels = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < pixels.length; i++, p += 4) {
    const alpha = (rgba[p + 3] ?? 255) / 255;
    const luma = 0.299 * (rgba[p] ?? 0) + 0.587 * (rgba[p + 1] ?? 0) + 0.114 * (rgba[p + 2] ?? 0);
    pixels[i] = Math.round(luma * alpha + 255 * (1 - alpha));
  }
  return { width, height, pixels };
}

/** Reads a canvas's pixels as grey, then shrinks the canvas so its pixel memory goes at once, not at the next collection. */
export function greyOfCanvas(canvas: Canvas): GreyImage {
  const { width, height } = canvas;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  const grey = greyOfRgba(data, width, height);
  canvas.width = 1;
  canvas.height = 1;
  return grey;
}

/**
 * Lets the event loop turn once, so that the native memory of the pixels read before it is freed.
 * A canvas's pixels (getImageData) live in native buffers that @napi-rs/canvas frees in an N-API
 * finalizer, and Node runs those from the event loop after a garbage collection, never during it.
 * pdf.js in Node awaits only promises, so a PDF's pages rendered back to back without the loop
 * turning, and every page's pixels (15 MB at 200 dpi) stayed until the file ended: 3.3 GB for 200
 * blank scanned pages (docs/benchmarks.md, "OCR: memory per page"). Awaited once per page.
 */
export function releaseFreedPixels(): Promise<void> {
  return nextTurn();
}

/** A decoded image drawn at its working size. */
export function greyOfImage(image: Image): GreyImage {
  const size = workingSize(image.width, image.height);
  const canvas = createCanvas(size.width, size.height);
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff';
  context.fillRect(0, 0, size.width, size.height);
  context.drawImage(image, 0, 0, size.width, size.height);
  return greyOfCanvas(canvas);
}

/** Grey pixels put through a canvas to scale them to their working size (TIFF pages decode to raw pixels). */
export function greyAtWorkingSize(rgba: Uint8Array, width: number, height: number): GreyImage {
  const size = workingSize(width, height);
  if (size.width === width && size.height === height) return greyOfRgba(rgba, width, height);
  const source = createCanvas(width, height);
  const imageData = source.getContext('2d').createImageData(width, height);
  imageData.data.set(rgba);
  source.getContext('2d').putImageData(imageData, 0, 0);
  const target = createCanvas(size.width, size.height);
  target.getContext('2d').drawImage(source, 0, 0, size.width, size.height);
  source.width = 1;
  source.height = 1;
  return greyOfCanvas(target);
}

/** True when no pixel is darker than paper: nothing to read, so OCR is not asked. */
export function isBlank(image: GreyImage, paper = 200): boolean {
  for (const value of image.pixels) if (value < paper) return false;
  return true;
}

/** The image as a binary PGM (P5): a format the engine reads without a codec, and free to write. */
export function toPgm(image: GreyImage): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${image.width} ${image.height}\n255\n`);
  const pgm = new Uint8Array(header.length + image.pixels.length);
  pgm.set(header, 0);
  pgm.set(image.pixels, header.length);
  return pgm;
}
