// OpenDocument text (ODT) → text; the reading is opendocument.ts's, shared with ODP.
import { convertOpenDocument } from './opendocument.js';
import type { Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';

export function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  return convertOpenDocument(bytes, 'ODT', 'text', limits);
}
