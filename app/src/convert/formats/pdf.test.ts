// PDF text fidelity on PDFs that reportlab wrote (test/fixtures/formats/generate-pdf-layout.py):
// paragraphs, mended hyphens, columns in reading order, a running header and footer kept once,
// page starts. The expected paragraphs come from the strings the generator drew
// (test/fixtures/pdf/paragraphs.json), not from this converter.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { getDocument } from '../pdfjs.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { pdfToText } from './pdf.js';

const fixtures = new URL('../../../../test/fixtures/', import.meta.url);
const read = (path: string) => new Uint8Array(readFileSync(new URL(path, fixtures)));
const expected = JSON.parse(readFileSync(new URL('pdf/paragraphs.json', fixtures), 'utf8')) as {
  'two-columns.pdf': string[];
  'interleaved-columns.pdf': string[];
  'running-header.pdf': { header: string; pages: string[][] };
};

/** What pdf.js itself gives as text items, for checking what a fixture really holds. */
async function rawItems(bytes: Uint8Array): Promise<string[]> {
  const loading = getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false, disableFontFace: true });
  try {
    const document = await loading.promise;
    const items: string[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const content = await (await document.getPage(number)).getTextContent();
      for (const item of content.items) if ('str' in item) items.push(item.str);
    }
    return items;
  } finally {
    await loading.destroy();
  }
}

describe('pdf layout on reportlab files', () => {
  test('two columns: paragraphs in column order, lines joined, hyphenated line ends mended', async () => {
    const bytes = read('formats/two-columns.pdf');
    // The fixture does break these words at line ends (reportlab, at soft hyphens).
    const raw = await rawItems(bytes);
    for (const broken of ['remarkably effi-', 'but Scandi-', 'a seasonal per-']) {
      assert.ok(raw.some((item) => item.endsWith(broken)), `pdf.js gives a line ending "${broken}"`);
    }
    const { text, pages } = await pdfToText(bytes, DEFAULT_CONVERT_LIMITS);
    assert.deepEqual(text.split('\n\n'), expected['two-columns.pdf']);
    assert.deepEqual(pages, [{ page: 1, offset: 0 }]);
    assert.match(text, /remarkably efficient machine/);
    assert.match(text, /but Scandinavian field trials/);
    assert.doesNotMatch(text, /effi- ?cient|Scandi- ?navian|per- ?formance/);
    // The paragraph that goes on at the top of the right column stays one paragraph.
    assert.match(text, /bedroom windows does the rest\./);
  });

  test('columns drawn line by line (left and right alternating) are read one column after the other', async () => {
    const bytes = read('pdf/interleaved-columns.pdf');
    const raw = await rawItems(bytes);
    // pdf.js gives the rows as drawn: the left column's first line, then the right one's.
    assert.ok(raw.indexOf('ef-') < raw.indexOf('Procurement') && raw.indexOf('Procurement') < raw.indexOf('ficient'));
    const { text } = await pdfToText(bytes, DEFAULT_CONVERT_LIMITS);
    assert.deepEqual(text.split('\n\n'), expected['interleaved-columns.pdf']);
  });

  test('hyphens at line ends: a broken word is mended, a compound keeps its hyphen', async () => {
    const { text } = await pdfToText(read('pdf/interleaved-columns.pdf'), DEFAULT_CONVERT_LIMITS);
    for (const word of ['efficient', 'well-known', 'X-ray', 'state-of-the-art', 'cost-effective pallet', 'quality review board']) {
      assert.ok(text.includes(word), `"${word}" in:\n${text}`);
    }
    assert.doesNotMatch(text, /wellknown|Xray|stateoftheart|costeffective|re-view/);
  });

  test('a running header and footer are kept once, on the first page, and page starts stay right', async () => {
    const { header, pages: pageParagraphs } = expected['running-header.pdf'];
    const { text, pages } = await pdfToText(read('pdf/running-header.pdf'), DEFAULT_CONVERT_LIMITS);
    assert.equal(text.split(header).length - 1, 1, 'the header once');
    assert.deepEqual(text.match(/Page \d of 5/g), ['Page 1 of 5'], 'the footer once, with its first page number');
    assert.deepEqual(pages.map((start) => start.page), [1, 2, 3, 4, 5]);
    const pageTexts = pages.map((start, index) => text.slice(start.offset, pages[index + 1]?.offset).trim());
    assert.deepEqual(pageTexts, pageParagraphs.map((paragraphs, index) =>
      (index === 0 ? [header, ...paragraphs, 'Page 1 of 5'] : paragraphs).join('\n\n')));
    // The word reportlab broke across lines on page 3 is whole.
    assert.match(pageTexts[2] ?? '', /approved reimbursement in the next/);
  });
});
