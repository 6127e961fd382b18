// Markdown → plain text: rendered to HTML by marked (GitHub-flavoured, so tables are tables), then
// read as HTML, so both formats keep block structure the same way. marked recurses once per list
// or quote level, so nesting is measured first (convert/nesting.ts), and the HTML it renders is
// measured again by htmlToText (raw HTML in Markdown passes through).
import { marked } from 'marked';
import { assertMarkdownNesting } from '../nesting.js';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';
import { htmlToText } from './html.js';

/** Throws ConversionError('too_large') for Markdown nested past MAX_MARKDOWN_DEPTH. */
export function markdownToText(markdown: string): string {
  assertMarkdownNesting(markdown);
  return htmlToText(marked.parse(markdown, { async: false, gfm: true }));
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: markdownToText(decodeText(bytes)) });
}
