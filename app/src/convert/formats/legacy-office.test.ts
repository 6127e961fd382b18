// Legacy Office files (OLE compound files): .doc read by word-extractor, .ppt refused with the fix.
// The .doc is olefile's sample (test/fixtures/formats/ole-sample.doc, BSD-2-Clause).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { convert } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';
import { conversionFailure as failure } from '../../../../test/support/conversion.js';

const doc = readFileSync(new URL('../../../../test/fixtures/formats/ole-sample.doc', import.meta.url));

describe('legacy Office', () => {
  test('a Word 97–2003 .doc is read', async () => {
    const converted = await convert(doc, 'ole-sample.doc', DEFAULT_CONVERT_LIMITS);
    assert.equal(converted.type, 'doc');
    assert.equal(converted.text, 'Test OLE file, saved as Word 97-2003 Document.');
  });

  test('a truncated .doc is corrupt', async () => {
    const error = await failure(convert(doc.subarray(0, 3000), 'ole-sample.doc', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'corrupt');
  });

  test('a .ppt is refused as legacy_format, saying how to fix it', async () => {
    // Any OLE compound file named .ppt: the refusal does not depend on what is inside.
    const error = await failure(convert(doc, 'slides.ppt', DEFAULT_CONVERT_LIMITS));
    assert.equal(error.reason, 'legacy_format');
    assert.match(error.message, /save it as \.pptx/);
  });
});
