// HTML → plain text. html-to-text keeps block structure as line breaks (which the
// passage splitter relies on) and drops markup; scripts, styles and other non-content elements are
// skipped outright so their bodies never reach the index.
import { compile } from 'html-to-text';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';

const htmlToPlainText = compile({
  wordwrap: false,
  preserveNewlines: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'iframe', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
});

export function htmlToText(html: string): string {
  return htmlToPlainText(html).trim();
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: htmlToText(decodeText(bytes, { html: true })) });
}
