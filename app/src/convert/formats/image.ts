// Images (PNG, JPEG, TIFF with all its pages, WebP, BMP) → text by OCR, one page at a time.
//
// Every page's declared size is checked before any pixel is decoded: an image bomb (a small file
// declaring a huge canvas) is refused with its size, not decoded. Declared sizes come from
// image-size (maintained, pure JS, reads only headers), a TIFF's pages from utif2's directory walk.
// PNG, JPEG, WebP and BMP are decoded by the OCR engine itself (Leptonica in WebAssembly: a
// malformed file fails there, it cannot crash the process). Not by @napi-rs/canvas: its Skia
// decoders are native code, and a PNG cut inside its header crashed the whole process (SIGSEGV)
// here. TIFF pages are decoded by utif2 (pure JS, every TIFF compression scanners write).
import { imageSize } from 'image-size';
import UTIF from 'utif2';
import { OcrBudget } from '../ocr/budget.js';
import { ocrEngine } from '../ocr/engine.js';
import type { EncodedImage } from '../ocr/engine.js';
import { greyAtWorkingSize, isBlank, MAX_DECLARED_PIXELS, releaseFreedPixels, type GreyImage } from '../ocr/raster.js';
import type { ConvertContext } from '../registry.js';
import { ConversionError, type Extracted, type PageStart } from '../types.js';

/** A page of the image file: its declared size, and how to decode it when its turn comes. */
interface ImagePage {
  readonly width: number;
  readonly height: number;
  decode(): Promise<GreyImage | EncodedImage>;
}

const PAGE_SEPARATOR = '\n\n';

function corrupt(error: unknown): ConversionError {
  return new ConversionError('corrupt', `image could not be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

function tiffPages(bytes: Uint8Array): ImagePage[] {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let directories: UTIF.IFD[];
  try {
    directories = UTIF.decode(buffer);
  } catch (error) {
    throw corrupt(error);
  }
  return directories.flatMap((directory) => {
    const width = Number((directory.t256 as number[] | undefined)?.[0]);
    const height = Number((directory.t257 as number[] | undefined)?.[0]);
    if (!(width > 0 && height > 0)) return [];
    return [{
      width,
      height,
      decode: () => {
        UTIF.decodeImage(buffer, directory);
        const rgba = UTIF.toRGBA8(directory);
        // The decoded strips are kept on the directory by utif2: let them go with this page.
        delete (directory as { data?: unknown }).data;
        return Promise.resolve(greyAtWorkingSize(rgba, width, height));
      },
    }];
  });
}

/** The file's pages with their declared sizes; nothing decoded yet. */
function pagesOf(bytes: Uint8Array): ImagePage[] {
  let declared: { width?: number; height?: number; type?: string };
  try {
    declared = imageSize(bytes);
  } catch (error) {
    throw corrupt(error);
  }
  if (declared.type === 'tiff') return tiffPages(bytes);
  const { width = 0, height = 0 } = declared;
  return [{
    width,
    height,
    decode: () => Promise.resolve({ encoded: bytes }),
  }];
}

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  if (limits.ocrMode === 'off') {
    throw new ConversionError('no_text', 'an image has text only through OCR, and OCR is off (OCR_MODE=off)');
  }
  const pages = pagesOf(bytes);
  if (pages.length === 0) throw new ConversionError('corrupt', 'image has no page with a width and height');
  for (const [index, page] of pages.entries()) {
    if (page.width * page.height > MAX_DECLARED_PIXELS) {
      throw new ConversionError(
        'too_large',
        `image${pages.length > 1 ? ` page ${index + 1}` : ''} declares ${page.width} × ${page.height} pixels (${Math.round((page.width * page.height) / 1e6)} MP), more than the ${MAX_DECLARED_PIXELS / 1e6} MP an image may have; refused before decoding`,
      );
    }
  }

  const engine = ocrEngine(limits.ocrLanguages);
  const budget = new OcrBudget(limits);
  let text = '';
  const starts: PageStart[] = [];
  for (const [index, page] of pages.entries()) {
    if (!budget.allows()) break;
    budget.attempt();
    // A TIFF page's pixels went through a canvas: the previous page's are freed here (raster.ts).
    await releaseFreedPixels();
    const image = await page.decode();
    if (!('encoded' in image) && isBlank(image)) continue;
    let reading;
    try {
      reading = await engine.read(image);
    } catch (error) {
      throw corrupt(error);
    }
    const pageText = reading.text.trim();
    if (pageText.length === 0) continue;
    if (text.length > 0) text += PAGE_SEPARATOR;
    starts.push({ page: index + 1, offset: text.length });
    budget.recorded({ page: index + 1, confidence: reading.confidence });
    text += pageText;
  }
  const stopped = budget.stopped(pages.length);
  if (text.length === 0) {
    throw new ConversionError('no_text', stopped === undefined ? 'OCR found no text in the image' : `${budget.describe(stopped)}, and found no text before it`);
  }
  return { text, pages: starts, ocrPages: budget.pages, ...(stopped === undefined ? {} : { ocrStopped: stopped }) };
}
