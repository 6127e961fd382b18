// HTML → plain text. html-to-text keeps block structure as line breaks (which the
// passage splitter relies on) and drops markup; scripts, styles and other non-content elements are
// skipped outright so their bodies never reach the index.
//
// Nesting is measured before parsing (convert/nesting.ts): html-to-text's parser and its
// recursive walk are not linear in deeply nested input. And html-to-text would cut input over its
// own 16 Mi-character limit, printing a plain warning line, and the file would be reported
// indexed: that limit is lifted here, so the whole text comes out and the sandbox's
// CONVERT_MAX_CHARS refuses what is too long as too_large, never cut.
import { compile } from 'html-to-text';
import { assertHtmlNesting } from '../nesting.js';
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';

const htmlToPlainText = compile({
  wordwrap: false,
  limits: { maxInputLength: Infinity },
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

/** Throws ConversionError('too_large') for HTML nested past MAX_HTML_DEPTH. */
export function htmlToText(html: string): string {
  assertHtmlNesting(html);
  return htmlToPlainText(html).trim();
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: htmlToText(decodeText(bytes, { html: true })) });
}
