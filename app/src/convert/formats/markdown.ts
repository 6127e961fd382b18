// Markdown → plain text: rendered to HTML by marked (GitHub-flavoured, so tables are tables), then
// read as HTML, so both formats keep block structure, and tables as rows, the same way.
import { marked } from 'marked';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';
import { htmlToExtracted } from './html.js';

export function markdownToExtracted(markdown: string): Extracted {
  return htmlToExtracted(marked.parse(markdown, { async: false, gfm: true }));
}

export function markdownToText(markdown: string): string {
  return markdownToExtracted(markdown).text;
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve(markdownToExtracted(decodeText(bytes)));
}
