// Markdown → plain text: rendered to HTML by marked (GitHub-flavoured, so tables are tables), then
// read as HTML, so both formats keep block structure the same way.
import { marked } from 'marked';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';
import { htmlToText } from './html.js';

export function markdownToText(markdown: string): string {
  return htmlToText(marked.parse(markdown, { async: false, gfm: true }));
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: markdownToText(decodeText(bytes)) });
}
