// Markdown → plain text: rendered to HTML by marked (GitHub-flavoured, so tables are tables), then
// read as HTML, so both formats keep block structure, and tables as rows, the same way. marked
// recurses once per list or quote level, so nesting is measured first (convert/nesting.ts), and
// the HTML it renders is measured again by htmlToExtracted (raw HTML in Markdown passes through).
import { marked } from 'marked';
import { assertMarkdownNesting } from '../nesting.js';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';
import { htmlToExtracted } from './html.js';

/** Throws ConversionError('too_large') for Markdown nested past MAX_MARKDOWN_DEPTH. */
export function markdownToExtracted(markdown: string): Extracted {
  assertMarkdownNesting(markdown);
  return htmlToExtracted(marked.parse(markdown, { async: false, gfm: true }));
}

export function markdownToText(markdown: string): string {
  return markdownToExtracted(markdown).text;
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve(markdownToExtracted(decodeText(bytes)));
}
