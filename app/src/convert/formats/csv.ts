// CSV → one table (convert/delimited.ts); the separator (, ; tab |) is detected from the first lines.
import { convertDelimited } from '../delimited.js';
import type { Extracted } from '../types.js';

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve(convertDelimited(bytes, undefined, 'CSV'));
}
