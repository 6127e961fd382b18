// DOCX → text via mammoth. A DOCX is a ZIP; its central directory is read first (yauzl, without
// inflating anything) so a decompression bomb is refused before mammoth inflates it in memory.
import mammoth from 'mammoth';
import yauzl from 'yauzl';
import { ConversionError, type ConvertLimits } from './types.js';

function declaredInflatedSize(bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true }, (openError, zip) => {
      if (openError) {
        reject(openError);
        return;
      }
      let total = 0;
      zip.on('entry', (entry: yauzl.Entry) => {
        total += entry.uncompressedSize;
        zip.readEntry();
      });
      zip.on('end', () => {
        resolve(total);
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

export async function docxToText(bytes: Uint8Array, limits: ConvertLimits): Promise<string> {
  let inflated: number;
  try {
    inflated = await declaredInflatedSize(bytes);
  } catch (error) {
    throw new ConversionError('corrupt', `DOCX is not a readable ZIP archive: ${String(error)}`, { cause: error });
  }
  if (inflated > limits.maxInflatedBytes) {
    throw new ConversionError(
      'too_large',
      `DOCX inflates to ${inflated} bytes, over the ${limits.maxInflatedBytes}-byte limit (decompression bomb?)`,
    );
  }
  try {
    const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return result.value.trim();
  } catch (error) {
    throw new ConversionError('corrupt', `DOCX could not be read: ${String(error)}`, { cause: error });
  }
}
