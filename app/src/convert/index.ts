// The convert stage: bytes and a file name in, text with its structure (pages, tables, sections)
// out, or a ConversionError whose reason the source stage records when it dead-letters the
// message. Which converter reads a file is the registry's business (registry.ts, detect.ts).
import { withoutControls } from './controls.js';
import { detectFormat } from './detect.js';
import { ConversionError, type Converted, type ConvertLimits } from './types.js';

export { ConversionError, DEFAULT_CONVERT_LIMITS } from './types.js';
export type { ConversionFailure, Converted, ConvertedPart, SkippedPart, ConvertLimits, Extracted, PageStart, SectionStart, TableSpan } from './types.js';
export { FORMATS, SUPPORTED_EXTENSIONS } from './registry.js';

/**
 * How deep documents inside documents are expanded: a file's parts (an e-mail's attachments) are
 * converted, their own parts are not (an attached e-mail's attachments), so one file costs a
 * bounded number of conversions.
 */
export const MAX_PART_DEPTH = 1;

export async function convert(bytes: Uint8Array, fileName: string, limits: ConvertLimits, depth = 0): Promise<Converted> {
  if (bytes.length === 0) throw new ConversionError('no_text', 'file is empty');
  const format = await detectFormat(bytes, fileName);
  const converter = await format.load();
  const convertPart = depth < MAX_PART_DEPTH ? (partBytes: Uint8Array, partName: string) => convert(partBytes, partName, limits, depth + 1) : undefined;
  const extracted = await converter.convert(bytes, { fileName, limits, ...(convertPart && { convertPart }) });
  const converted = withoutControls({ ...extracted, type: format.type, contentType: format.contentType });
  if (converted.text.trim().length === 0) {
    throw new ConversionError('no_text', `no text could be extracted from this ${format.name} file`);
  }
  return converted;
}
