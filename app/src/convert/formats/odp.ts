// OpenDocument presentation (ODP) → text, one page per slide; the reading is opendocument.ts's.
import { convertOpenDocument } from './opendocument.js';
import type { Extracted } from '../types.js';
import type { ConvertContext } from '../registry.js';

export function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  return convertOpenDocument(bytes, 'ODP', 'presentation', limits);
}
