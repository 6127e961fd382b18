// DOCX → text via mammoth (the maintained DOCX reader for JavaScript; it follows the document's
// reading order). mammoth inflates the whole archive in memory, so the archive is first inflated
// as a stream under the inflate limits (convert/zip.ts), whatever its headers declare.
import mammoth from 'mammoth';
import { BoundedZip } from '../zip.js';
import { ConversionError, type Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  const zip = await BoundedZip.open(bytes, 'DOCX', limits);
  await zip.checkAll();
  try {
    const result = await mammoth.extractRawText({ buffer: Buffer.from(bytes) });
    return { text: result.value.trim() };
  } catch (error) {
    throw new ConversionError('corrupt', `DOCX could not be read: ${String(error)}`, { cause: error });
  }
}
