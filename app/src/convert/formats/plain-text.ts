// Plain text: decoded as editors would (convert/text.ts), kept as it is.
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: decodeText(bytes) });
}
