// TSV → one table (convert/delimited.ts), tab-separated.
import { convertDelimited } from '../delimited.js';
import type { Extracted } from '../types.js';

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve(convertDelimited(bytes, '\t', 'TSV'));
}
