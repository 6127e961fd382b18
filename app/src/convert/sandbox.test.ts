// The converter threads, with real converters on hostile files made here: a runaway conversion
// costs one file its reason, never the process, and the main thread runs on meanwhile.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import JSZip from 'jszip';
import { makePdf } from '../../../test/fixtures/documents.js';
import { convert } from './index.js';
import { ConvertSandbox, type SandboxLimits } from './sandbox.js';
import { ConversionError, DEFAULT_CONVERT_LIMITS } from './types.js';

const LIMITS: SandboxLimits = { ...DEFAULT_CONVERT_LIMITS, maxHeapMb: 256, maxChars: 1_000_000 };
const sandboxes: ConvertSandbox[] = [];
function sandbox(limits: Partial<SandboxLimits> = {}, threads = 1): ConvertSandbox {
  const made = new ConvertSandbox({ threads, limits: { ...LIMITS, ...limits } });
  sandboxes.push(made);
  return made;
}
after(async () => {
  await Promise.all(sandboxes.map((made) => made.close()));
});

const text = (value: string) => new TextEncoder().encode(value);

/** A small DOCX whose document.xml inflates to `mb` MB of empty runs. */
async function emptyRunsDocx(mb: number): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>');
  zip.file('_rels/.rels', '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>');
  const run = '<w:r><w:t></w:t></w:r>';
  const body = run.repeat(Math.ceil((mb * 1024 * 1024) / run.length));
  zip.file('word/document.xml', `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>${body}</w:p></w:body></w:document>`);
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

async function failure(promise: Promise<unknown>): Promise<ConversionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ConversionError, `expected a ConversionError, got ${String(error)}`);
  return error;
}

describe('the converter sandbox', () => {
  test('converts as the converters do in the main thread, pages included', async () => {
    const pool = sandbox();
    const html = text('<html><body><h1>Kelp</h1><p>Kelp forests shelter sea otters.</p></body></html>');
    assert.deepEqual(await pool.convert(html, 'kelp.html'), await convert(html, 'kelp.html', LIMITS));
    const pdf = await makePdf(['Page one is about tides.', 'Page two is about kelp.']);
    const fromThread = await pool.convert(pdf, 'tides.pdf');
    assert.deepEqual(fromThread, await convert(pdf, 'tides.pdf', LIMITS));
    assert.equal(fromThread.pages?.length, 2);
  });

  test('an exception inside a converter is a permanent corrupt, with what the converter said', async () => {
    // html-to-text numbers a Roman list by a table that ends at the thousands: a list that
    // starts at 10^15 makes it throw a TypeError. (Deep nesting, which overflowed its stack, is now
    // refused before parsing: convert/nesting.ts.)
    const roman = text('<html><body><ol type="i" start="1000000000000000"><li>item</li></ol></body></html>');
    const error = await failure(sandbox().convert(roman, 'roman.html'));
    assert.equal(error.reason, 'corrupt');
    assert.match(error.message, /TypeError/);
  });

  test('a conversion past its deadline is ended as timeout, and the main thread runs on meanwhile', async () => {
    const pool = sandbox({ maxMillis: 1_000 });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      // Markdown lists indented one step further per line, each 240 levels deep (under the
      // nesting limit, convert/nesting.ts): marked takes about 0.4 s per list on a 2-core machine.
      const stairs = Array.from({ length: 240 }, (_, i) => `${' '.repeat(i * 2)}- item ${i}`).join('\n');
      const list = Array.from({ length: 10 }, () => stairs).join('\n\nParagraph.\n\n');
      const error = await failure(pool.convert(text(list), 'stairs.md'));
      assert.equal(error.reason, 'timeout');
      assert.match(error.message, /CONVERT_MAX_SECONDS=1\b/);
    } finally {
      clearInterval(ticker);
    }
    // On the main thread the parse would hold the event loop the whole time: no tick at all.
    assert.ok(ticks >= 10, `the main thread ticked ${ticks} times during the conversion`);
    const after = await pool.convert(text('still converting after a timeout'), 'next.txt');
    assert.equal(after.text, 'still converting after a timeout');
  });

  test('a conversion over the heap limit is too_large, and the pool goes on with a new thread', async () => {
    // The ratio cap would refuse this file before it reaches the heap; off here, so the heap is what stops it.
    const pool = sandbox({ maxHeapMb: 64, maxInflateRatio: 100_000 });
    const bomb = await emptyRunsDocx(20);
    assert.ok(bomb.length < 200 * 1024, `the docx is small (${bomb.length} bytes)`);
    const error = await failure(pool.convert(bomb, 'runs.docx'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /CONVERT_MAX_HEAP_MB=64/);
    assert.equal((await pool.convert(text('next file'), 'next.txt')).text, 'next file');
  });

  test('text over the character cap is refused as too_large, not cut', async () => {
    const error = await failure(sandbox({ maxChars: 1_000 }).convert(text('word '.repeat(400)), 'long.txt'));
    assert.equal(error.reason, 'too_large');
    assert.match(error.message, /2000 characters of text, more than CONVERT_MAX_CHARS=1000/);
  });

  test('files beyond the thread count wait for a thread, and all convert', async () => {
    const pool = sandbox({}, 2);
    const names = Array.from({ length: 7 }, (_, i) => `file ${i} of seven`);
    const converted = await Promise.all(names.map((name) => pool.convert(text(name), `${name}.txt`)));
    assert.deepEqual(
      converted.map((result) => result.text),
      names,
    );
  });
});
