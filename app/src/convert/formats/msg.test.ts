// Outlook items, on a real one (test/fixtures/formats/delivery-failure.msg, from msg_parser's
// tests under the BSD licence): header lines, body, and the attached Outlook item as a part.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { convert, ConversionError } from '../index.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';

const limits = { ...DEFAULT_CONVERT_LIMITS, maxChars: 1_000_000 };
const bounce = readFileSync(new URL('../../../../test/fixtures/formats/delivery-failure.msg', import.meta.url));

describe('msg', () => {
  test('header lines, then the body', async () => {
    const converted = await convert(bounce, 'bounce.msg', limits);
    assert.equal(converted.type, 'msg');
    assert.match(converted.text, /^From: Mail Delivery Subsystem <mailer-daemon@tjdpf\.org\.cn>\nTo: yosipnps@model\.com\nDate: Mon, 27 Nov 2017 09:44:33 GMT\nSubject: 投递状态通知 \(Failure Notice\)\n\nHi\. This is an automatically generated/);
    assert.match(converted.text, /The recipients is locked\. \(User Locked\)/);
  });

  test('an attached Outlook item is a part, read as .msg whatever it is called, not expanded further', async () => {
    const converted = await convert(bounce, 'bounce.msg', limits);
    assert.deepEqual(converted.parts?.map((part) => [part.name, part.converted.type]), [['default_attachment.eml', 'msg']]);
    const item = converted.parts[0];
    assert.ok(item);
    assert.match(item.converted.text, /^From: Meredith chen <yosipnps@model\.com>\nTo: hp_lsz@tjdpf\.org\.cn/);
    assert.equal(item.converted.parts, undefined);
  });

  test('a file named .msg that is no compound file is refused as corrupt', async () => {
    await assert.rejects(convert(new TextEncoder().encode('From: a\r\n\r\nnot outlook'), 'x.msg', limits), (error: unknown) => error instanceof ConversionError && error.reason === 'corrupt');
  });

  test('a damaged compound file is refused, not crashed on', async () => {
    const damaged = Uint8Array.from(bounce.subarray(0, 4096));
    await assert.rejects(convert(damaged, 'x.msg', limits), (error: unknown) => error instanceof Error);
  });
});
