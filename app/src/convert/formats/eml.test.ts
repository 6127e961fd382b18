// E-mail through the registry: header lines and body, HTML-only bodies, attachments as parts
// (named safely, unique, capped), and the hostile cases: a thousand attachments, nested mail.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { makeDocx } from '../../../../test/fixtures/documents.js';
import { convert } from '../index.js';
import { MAX_PARTS } from '../parts.js';
import { ConvertSandbox } from '../sandbox.js';
import { DEFAULT_CONVERT_LIMITS } from '../types.js';

const limits = { ...DEFAULT_CONVERT_LIMITS, maxChars: 1_000_000 };
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

interface TestAttachment {
  readonly name?: string;
  readonly type: string;
  readonly bytes: Uint8Array;
  readonly disposition?: string;
}

/** A MIME message, written by hand so each test says exactly what the file holds. */
function mime(headers: string, body: { text?: string; html?: string }, attachments: readonly TestAttachment[] = []): Uint8Array {
  const boundary = 'b-outer';
  const parts: string[] = [];
  const bodies: string[] = [];
  if (body.text !== undefined) bodies.push(`Content-Type: text/plain; charset=utf-8\r\n\r\n${body.text}`);
  if (body.html !== undefined) bodies.push(`Content-Type: text/html; charset=utf-8\r\n\r\n${body.html}`);
  // Two bodies are alternatives of one another, as mail programs send them.
  if (bodies.length === 2) parts.push(`Content-Type: multipart/alternative; boundary="b-alt"\r\n\r\n${bodies.map((part) => `--b-alt\r\n${part}\r\n`).join('')}--b-alt--`);
  else parts.push(...bodies);
  for (const attachment of attachments) {
    const name = attachment.name === undefined ? '' : `; filename="${attachment.name}"`;
    const base64 = Buffer.from(attachment.bytes).toString('base64').replace(/.{76}/g, '$&\r\n');
    parts.push(`Content-Type: ${attachment.type}\r\nContent-Disposition: ${attachment.disposition ?? 'attachment'}${name}\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}`);
  }
  const multipart = parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('') + `--${boundary}--\r\n`;
  return utf8(`${headers}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n${multipart}`);
}

const HEADERS = 'From: Anna Berg <anna@example.org>\r\nTo: Ben <ben@example.org>, cara@example.org\r\nCc: Dan <dan@example.org>\r\nDate: Tue, 5 Mar 2024 10:15:00 +0100\r\nSubject: Audit of the Tallow Street depot\r\n';

describe('eml', () => {
  test('header lines, then the text body', async () => {
    const converted = await convert(mime(HEADERS, { text: 'The depot audit starts on Monday.\r\n', html: '<p>HTML twin that must not be used</p>' }), 'audit.eml', limits);
    assert.equal(converted.type, 'eml');
    assert.equal(converted.contentType, 'message/rfc822');
    assert.equal(
      converted.text,
      'From: Anna Berg <anna@example.org>\nTo: Ben <ben@example.org>, cara@example.org\nCc: Dan <dan@example.org>\nDate: Tue, 05 Mar 2024 09:15:00 GMT\nSubject: Audit of the Tallow Street depot\n\nThe depot audit starts on Monday.',
    );
    assert.equal(converted.parts, undefined);
  });

  test('an HTML-only body is read as HTML: text kept, markup, scripts and styles gone', async () => {
    const converted = await convert(mime(HEADERS, { html: '<style>p{color:red}</style><h2>Depot</h2><p>Keys are at <b>gate 4</b>.</p><script>steal()</script>' }), 'a.eml', limits);
    assert.match(converted.text, /Subject: Audit of the Tallow Street depot\n\nDepot\n\nKeys are at gate 4\./);
    assert.doesNotMatch(converted.text, /color|steal|<b>/);
  });

  test('a mail without an extension is told by its header lines', async () => {
    const converted = await convert(utf8('Received: from mx.example.org\r\nFrom: a@example.org\r\nSubject: Hi\r\n\r\nPlain body.\r\n'), 'message-0001', limits);
    assert.equal(converted.type, 'eml');
    assert.match(converted.text, /Subject: Hi\n\nPlain body\./);
    // Text that merely starts with a colon line stays plain text.
    assert.equal((await convert(utf8('Note: buy milk\nand bread\n'), 'todo', limits)).type, 'text');
  });

  test('a readable attachment becomes a part, converted by its own format', async () => {
    const docx = await makeDocx([{ paragraphs: ['The lichen count was 212 species.'] }]);
    const converted = await convert(mime(HEADERS, { text: 'See attached.' }, [{ name: 'survey.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: docx }]), 'm.eml', limits);
    assert.equal(converted.parts?.length, 1);
    const part = converted.parts[0];
    assert.ok(part);
    assert.equal(part.name, 'survey.docx');
    assert.equal(part.converted.type, 'docx');
    assert.match(part.converted.text, /212 species/);
    assert.doesNotMatch(converted.text, /212 species/, 'the attachment is not in the body');
  });

  test('unreadable and broken attachments are skipped with their reasons; the mail still converts', async () => {
    const converted = await convert(
      mime(HEADERS, { text: 'Body.' }, [
        { name: 'photo.exe', type: 'application/octet-stream', bytes: new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0]) },
        { name: 'broken.docx', type: 'application/octet-stream', bytes: utf8('PK\u0003\u0004 not really a zip') },
        { name: 'notes.txt', type: 'text/plain', bytes: utf8('Readable notes.') },
      ]),
      'm.eml',
      limits,
    );
    assert.deepEqual(converted.parts?.map((part) => part.name), ['notes.txt']);
    assert.deepEqual(
      converted.skippedParts?.map((part) => [part.name, part.reason]),
      [
        ['photo.exe', 'unsupported_type'],
        ['broken.docx', 'corrupt'],
      ],
    );
  });

  test("attachment names: controls removed, '/' and '#' made safe, duplicates numbered, unnamed ones named by type", async () => {
    const converted = await convert(
      mime(HEADERS, { text: 'Body.' }, [
        { name: '../etc/pass#wd.txt', type: 'text/plain', bytes: utf8('one') },
        { name: 'a\u0007b.txt', type: 'text/plain', bytes: utf8('two') },
        { name: 'same.txt', type: 'text/plain', bytes: utf8('three') },
        { name: 'same.txt', type: 'text/plain', bytes: utf8('four') },
        { type: 'text/plain', bytes: utf8('five') },
      ]),
      'm.eml',
      limits,
    );
    assert.deepEqual(converted.parts?.map((part) => part.name), ['..\u2215etc\u2215pass\uFF03wd.txt', 'a b.txt', 'same.txt', 'same (2).txt', 'attachment-5.txt']);
  });

  test('an attached mail is converted, but its own attachments are not expanded (depth 1)', async () => {
    const inner = mime('From: inner@example.org\r\nSubject: Inner\r\n', { text: 'Inner body.' }, [{ name: 'deep.txt', type: 'text/plain', bytes: utf8('Too deep to read.') }]);
    const converted = await convert(mime(HEADERS, { text: 'Forwarding.' }, [{ name: 'Fwd', type: 'message/rfc822', bytes: inner }]), 'm.eml', limits);
    assert.equal(converted.parts?.length, 1);
    const part = converted.parts[0];
    assert.ok(part);
    assert.equal(part.converted.type, 'eml');
    assert.match(part.converted.text, /Subject: Inner\n\nInner body\./);
    assert.equal(part.converted.parts, undefined);
    assert.equal(part.converted.skippedParts, undefined);
  });

  test('an attachment that would pass CONVERT_MAX_CHARS is skipped, not the mail', async () => {
    const converted = await convert(
      mime(HEADERS, { text: 'Body.' }, [
        { name: 'big.txt', type: 'text/plain', bytes: utf8('word '.repeat(400)) },
        { name: 'small.txt', type: 'text/plain', bytes: utf8('small') },
      ]),
      'm.eml',
      { ...limits, maxChars: 1000 },
    );
    assert.deepEqual(converted.parts?.map((part) => part.name), ['small.txt']);
    assert.equal(converted.skippedParts?.[0]?.reason, 'too_large');
    assert.match(converted.skippedParts[0].message, /CONVERT_MAX_CHARS=1000/);
  });
});

describe('eml in the sandbox', () => {
  const sandbox = new ConvertSandbox({ processes: 1, limits: { ...limits, maxHeapMb: 256, maxMemoryMb: 640 } });
  after(() => sandbox.close());

  test(`a thousand attachments: the first ${MAX_PARTS} are read, the rest listed as skipped, in a converter thread`, async () => {
    const attachments = Array.from({ length: 1000 }, (_, i) => ({ name: `note-${i}.txt`, type: 'text/plain', bytes: utf8(`Note number ${i}.`) }));
    const converted = await sandbox.convert(mime(HEADERS, { text: 'Many notes.' }, attachments), 'many.eml');
    assert.equal(converted.parts?.length, MAX_PARTS);
    assert.equal(converted.parts.at(-1)?.name, `note-${MAX_PARTS - 1}.txt`);
    assert.deepEqual(converted.skippedParts, [{ name: `${1000 - MAX_PARTS} more`, reason: 'too_many', message: `1000 attachments; the first ${MAX_PARTS} are read` }]);
    // The thread is still there for the next file.
    assert.match((await sandbox.convert(utf8('after'), 'after.txt')).text, /after/);
  });

  test('a message nested past the MIME depth cap is refused as too large', async () => {
    const depth = 40;
    let body = 'Content-Type: text/plain\r\n\r\ncore\r\n';
    for (let level = 0; level < depth; level++) body = `Content-Type: multipart/mixed; boundary="b${level}"\r\n\r\n--b${level}\r\n${body}--b${level}--\r\n`;
    const error = await sandbox.convert(utf8(`From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n${body}`), 'deep.eml').then(
      () => undefined,
      (caught: unknown) => caught as { reason?: string; message?: string },
    );
    assert.equal(error?.reason, 'too_large', error?.message);
  });
});
