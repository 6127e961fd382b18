// Hostile input: odd keys, malformed messages and files built to break converters. Each case has
// its expected outcome written down here; the worker must reach exactly that outcome for every
// one, stay up throughout, and keep its memory bounded.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import JSZip from 'jszip';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';
import { deleteObject, s3Event, sendBody, settings } from '../support/stack.js';
import { account, assertBalanced, expectedOutcomes, type Expected } from './accountant.js';
import { prose, seededRandom, type CorpusFile } from './corpus.js';
import { createScenario, dropScenario, peakRssMb, settle, startWorker, stopWorker, upload, type Scenario } from './harness.js';

const CAP = 20 * 1024 * 1024;
type Delivery = 's3-event' | 'bucket-key' | 'sns' | 'none';
interface FileCase {
  readonly name: string;
  readonly key: string;
  readonly body?: () => Uint8Array | string | Promise<Uint8Array | string>;
  readonly delivery: Delivery;
  /** 'indexed', or the dead-letter reason. */
  readonly expect: string;
}

const random = seededRandom(4242);
const sentence = (words = 40) => prose(random, words);

function encryptedPdf() {
  return makePdf(['top secret'], { userPassword: 'hunter2' });
}
async function drawingOnlyPdf(): Promise<Uint8Array> {
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve) => {
    const pdf = new PDFDocument();
    const parts: Buffer[] = [];
    pdf.on('data', (part: Buffer) => parts.push(part));
    pdf.on('end', () => {
      resolve(new Uint8Array(Buffer.concat(parts)));
    });
    pdf.rect(50, 50, 200, 100).fill('#336699');
    pdf.end();
  });
}
async function zipBombDocx(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<Types/>');
  zip.file('word/document.xml', new Uint8Array(300 * 1024 * 1024), { compression: 'DEFLATE' });
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}
async function plainZip(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('notes/readme.txt', 'not a word document');
  return zip.generateAsync({ type: 'uint8array' });
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, ...new Uint8Array(64)]);
const LONG_KEY = `hostile/long/${'k'.repeat(1000)}.txt`;

const FILE_CASES: FileCase[] = [
  { name: 'key with spaces', key: 'hostile/my report final.txt', body: () => sentence(), delivery: 's3-event', expect: 'indexed' },
  { name: 'key with +', key: 'hostile/c++ notes+tips.md', body: () => `# C++\n\n${sentence()}`, delivery: 's3-event', expect: 'indexed' },
  { name: 'unicode key', key: 'hostile/résumé 東京 ü.html', body: () => `<p>${sentence()}</p>`, delivery: 's3-event', expect: 'indexed' },
  { name: 'key with ../', key: 'hostile/../../etc/passwd.txt', body: () => sentence(), delivery: 'bucket-key', expect: 'indexed' },
  { name: 'very long key', key: LONG_KEY, body: () => sentence(), delivery: 'bucket-key', expect: 'indexed' },
  { name: 'empty file', key: 'hostile/empty.txt', body: () => '', delivery: 'bucket-key', expect: 'no_text' },
  { name: 'binary garbage named .txt', key: 'hostile/garbage.txt', body: () => new Uint8Array(8192).map((_, i) => (i * 7919 + 13) % 256), delivery: 'bucket-key', expect: 'unsupported_type' },
  { name: 'invalid UTF-8', key: 'hostile/invalid-utf8.txt', body: () => new Uint8Array(4096).map((_, i) => 0x80 + ((i * 37) % 0x7f)), delivery: 'bucket-key', expect: 'encoding' },
  { name: '50 MB single-line text', key: 'hostile/one-line-50mb.txt', body: () => 'word '.repeat(10 * 1024 * 1024), delivery: 'bucket-key', expect: 'too_large' },
  { name: 'file over the size cap', key: 'hostile/over-cap.md', body: () => `# big\n\n${'lorem ipsum dolor sit amet\n'.repeat(Math.ceil((CAP + 1024) / 27))}`, delivery: 'bucket-key', expect: 'too_large' },
  { name: 'encrypted PDF', key: 'hostile/encrypted.pdf', body: encryptedPdf, delivery: 'bucket-key', expect: 'encrypted' },
  { name: 'truncated PDF', key: 'hostile/truncated.pdf', body: async () => (await makePdf([sentence()])).subarray(0, 400), delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'PDF with thousands of blank pages', key: 'hostile/blank-3000.pdf', body: () => makePdf(Array.from({ length: 3000 }, () => '')), delivery: 'bucket-key', expect: 'too_many_pages' },
  { name: 'PDF with no text layer', key: 'hostile/scanned.pdf', body: drawingOnlyPdf, delivery: 'bucket-key', expect: 'no_text' },
  { name: 'decompression-bomb DOCX', key: 'hostile/bomb.docx', body: zipBombDocx, delivery: 'bucket-key', expect: 'too_large' },
  { name: 'HTML with a huge script', key: 'hostile/huge-script.html', body: () => `<html><script>var x="${'s'.repeat(5 * 1024 * 1024)}";</script><body><p>${sentence()}</p></body></html>`, delivery: 'bucket-key', expect: 'indexed' },
  { name: 'unsupported type', key: 'hostile/sheet.xlsx', body: () => 'a,b\n1,2', delivery: 'bucket-key', expect: 'unsupported_type' },
  { name: 'PNG named .txt', key: 'hostile/picture.txt', body: () => PNG, delivery: 'bucket-key', expect: 'unsupported_type' },
  { name: 'PDF named .txt (sniffed)', key: 'hostile/actually-a-pdf.txt', body: () => makePdf([sentence()]), delivery: 'bucket-key', expect: 'indexed' },
  { name: 'ZIP named .docx', key: 'hostile/not-word.docx', body: plainZip, delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'UTF-16 text with BOM', key: 'hostile/utf16.txt', body: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sentence(), 'utf16le')]), delivery: 'bucket-key', expect: 'indexed' },
  { name: 'control and zero-width characters', key: 'hostile/controls.txt', body: () => `a\u200b\u200d${sentence()}\u0007\u000b${sentence()}`, delivery: 'bucket-key', expect: 'indexed' },
  { name: 'DOCX with only an empty paragraph', key: 'hostile/empty.docx', body: () => makeDocx([{ paragraphs: [''] }]), delivery: 'bucket-key', expect: 'no_text' },
  { name: 'SNS-wrapped notification', key: 'hostile/via-sns.txt', body: () => sentence(), delivery: 'sns', expect: 'indexed' },
  { name: 'object deleted before download', key: 'hostile/gone.txt', body: () => sentence(), delivery: 'bucket-key', expect: 'missing_object' },
];

const BODY_CASES: [name: string, body: string, reason: string][] = [
  ['malformed JSON', '{"bucket": "b", "key": ', 'malformed_message'],
  ['unknown JSON shape', '{"hello":"world"}', 'malformed_message'],
  ['giant non-JSON body', 'x'.repeat(200 * 1024), 'malformed_message'],
  ['JSON array', '[{"bucket":"b","key":"k"}]', 'malformed_message'],
  ['unsupported S3 event', JSON.stringify({ Records: [{ eventName: 'ObjectRestore:Completed', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] }), 'malformed_message'],
  ['bad percent-encoding in key', JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: '%E0%A4%A' } } }] }), 'malformed_message'],
  ['empty key', '{"bucket":"b","key":""}', 'malformed_message'],
];

let scenario: Scenario | undefined;
after(async () => {
  if (scenario) await dropScenario(scenario);
});

test(`hostile input: ${FILE_CASES.length} files and ${BODY_CASES.length + 2} messages, each with its expected outcome`, { timeout: 10 * 60_000 }, async () => {
  assert.ok(FILE_CASES.length + BODY_CASES.length >= 25);
  scenario = await createScenario('hostile', { notify: false, env: { FETCH_MAX_BYTES: String(CAP) } });
  const files: CorpusFile[] = [];
  for (const c of FILE_CASES) if (c.body) files.push({ key: c.key, body: await c.body() });

  // The cases' written-down outcomes must agree with what the project's own stages decide.
  const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  const computed = await expectedOutcomes(files, { ...settings, fetch: { maxBytes: CAP } }, embedder);
  await embedder.dispose();
  const expected = new Map<string, Expected>();
  for (const c of FILE_CASES) {
    const declared: Expected = c.expect === 'indexed' ? { outcome: 'indexed', chunks: 0 } : { outcome: 'dead-lettered', reason: c.expect };
    const fromStages = c.expect === 'missing_object' ? declared : computed.get(c.key);
    assert.equal(
      fromStages?.outcome === 'indexed' ? 'indexed' : fromStages?.outcome === 'dead-lettered' ? fromStages.reason : undefined,
      c.expect,
      `${c.name}: the stages decide differently than the case says`,
    );
    expected.set(c.key, fromStages ?? declared);
  }
  // A bucket the worker may not read (issue #27, row 7): refused unread, whether it exists or not.
  expected.set('hostile/no-such-bucket.txt', { outcome: 'dead-lettered', reason: 'forbidden_bucket' });

  await upload(scenario, files, 4);
  await deleteObject(scenario.bucket, 'hostile/gone.txt');
  for (const c of FILE_CASES) {
    const bodies: Record<Delivery, string> = {
      's3-event': s3Event('ObjectCreated:Put', scenario.bucket, c.key),
      'bucket-key': JSON.stringify({ bucket: scenario.bucket, key: c.key }),
      sns: JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:000000000000:t', Message: s3Event('ObjectCreated:Put', scenario.bucket, c.key) }),
      none: '',
    };
    if (c.delivery !== 'none') await sendBody(scenario.queueUrl, bodies[c.delivery]);
  }
  await sendBody(scenario.queueUrl, JSON.stringify({ bucket: `no-such-bucket-${Date.now()}`, key: 'hostile/no-such-bucket.txt' }));
  await sendBody(scenario.queueUrl, JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: scenario.bucket }));
  for (const [, body] of BODY_CASES) await sendBody(scenario.queueUrl, body);

  const worker = startWorker(scenario);
  await settle(scenario, 8 * 60_000);
  const peak = peakRssMb(worker.child.pid) ?? 0;
  assert.equal(worker.child.exitCode, null, 'the worker stayed up through every case');
  assert.equal(await stopWorker(worker), 0);

  const tally = await account({
    scenario: 'hostile',
    bucket: scenario.bucket,
    index: scenario.index,
    deadLetterUrl: scenario.deadLetterUrl,
    expected,
    expectedBodies: new Map(BODY_CASES.map(([, body, reason]) => [body, reason])),
  });
  process.stdout.write(`# hostile: worker peak RSS ${peak} MB across all cases\n`);
  assertBalanced(tally);
  // Bounded, not tuned: a converter that inflated the bomb or buffered the 50 MB file would blow this.
  assert.ok(peak < 1500, `worker peak RSS ${peak} MB`);
});
