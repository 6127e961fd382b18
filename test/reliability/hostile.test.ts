// Hostile input: odd keys, malformed messages and files built to break converters (issue #27's
// table among them, made here by test/fixtures/hostile.ts). Each case has its expected outcome
// written down here; the worker, run with the pod's heap setting, must reach exactly that outcome
// for every one, answer /healthz every second throughout, receive no message twice, and keep the
// pod's memory (the worker and its converter processes) under the chart's default limit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import JSZip from 'jszip';
import { createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';
import { makeDocx, makePdf } from '../fixtures/documents.js';
import { scannedPdf } from '../fixtures/scans.js';
import { docxLyingAboutSize, docxOfEmptyRuns, pdfStreamBomb, pdfTextExpansion, pdfXObjectFanOut } from '../fixtures/hostile.js';
import { deleteObject, freePort, logLines, s3Event, sendBody, settings } from '../support/stack.js';
import { account, assertBalanced, expectedOutcomes, type Expected } from './accountant.js';
import { prose, seededRandom, type CorpusFile } from './corpus.js';
import { createScenario, dropScenario, settle, sleep, startWorker, stopWorker, treeRssMb, upload, type Scenario } from './harness.js';

const CAP = 20 * 1024 * 1024;
/** Low enough that the cases past it are refused in seconds; each is still its own case. */
const MAX_CHARS = 2_000_000;
const MAX_SECONDS = 15;
/** What Node gives a 2Gi pod (the chart's default limit), as the pod runs it. */
const POD_HEAP = '--max-old-space-size=1048';
const POD_LIMIT_MB = 2048;
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
function csvNamedXlsx(): Uint8Array {
  return new TextEncoder().encode('a,b\n1,2\n');
}
/** A workbook cut in half: its central directory is gone. */
async function truncatedXlsx(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('[Content_Types].xml', '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>');
  zip.file('xl/workbook.xml', `<workbook>${'<sheet/>'.repeat(2000)}</workbook>`);
  const whole = await zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
  return whole.subarray(0, Math.floor(whole.length / 2));
}
/** An e-mail with a thousand attachments: indexed with the first MAX_PARTS, the rest listed as skipped. */
function mailWithAttachments(count: number): string {
  const boundary = 'hostile-boundary';
  const parts = Array.from({ length: count }, (_, i) => [`--${boundary}`, 'Content-Type: text/plain', `Content-Disposition: attachment; filename="note-${i}.txt"`, 'Content-Transfer-Encoding: base64', '', Buffer.from(`Note ${i}: ${sentence(12)}`).toString('base64')].join('\r\n'));
  return [
    'From: flood@example.com',
    'To: inbox@example.com',
    'Subject: a thousand attachments',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain',
    '',
    sentence(),
    ...parts,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}
/**
 * A real document from the formats fixtures with one entry replaced by 300 MB of zeros: a zip
 * bomb inside a format the worker reads (pptx, odt, epub), caught by the bounded ZIP reader.
 */
function bombInside(fixture: string, entry: string): () => Promise<Uint8Array> {
  return async () => {
    const zip = await JSZip.loadAsync(readFileSync(new URL(`../fixtures/formats/${fixture}`, import.meta.url)));
    assert.ok(zip.file(entry), `${fixture} holds ${entry}`);
    zip.file(entry, new Uint8Array(300 * 1024 * 1024), { compression: 'DEFLATE' });
    return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
  };
}
async function plainZip(): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file('notes/readme.txt', 'not a word document');
  return zip.generateAsync({ type: 'uint8array' });
}

/** A PNG header that declares an image of width × height pixels, and nothing after it. */
function pngDeclaring(width: number, height: number): () => Uint8Array {
  return () => {
    const header = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, 0);
    header.writeUInt32BE(13, 8);
    header.write('IHDR', 12, 'latin1');
    header.writeUInt32BE(width, 16);
    header.writeUInt32BE(height, 20);
    header.set([8, 6, 0, 0, 0], 24);
    return new Uint8Array(header);
  };
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
  { name: 'unsupported type', key: 'hostile/model.stl', body: () => 'solid cube\nendsolid cube\n', delivery: 'bucket-key', expect: 'unsupported_type' },
  { name: 'CSV named .xlsx', key: 'hostile/sheet.xlsx', body: csvNamedXlsx, delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'truncated XLSX', key: 'hostile/truncated.xlsx', body: truncatedXlsx, delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'zip bomb inside a PPTX slide', key: 'hostile/bomb.pptx', body: bombInside('deck.pptx', 'ppt/slides/slide1.xml'), delivery: 'bucket-key', expect: 'too_large' },
  { name: 'zip bomb inside an ODT', key: 'hostile/bomb.odt', body: bombInside('minutes.odt', 'content.xml'), delivery: 'bucket-key', expect: 'too_large' },
  { name: 'zip bomb inside an EPUB chapter', key: 'hostile/bomb.epub', body: bombInside('almanac.epub', 'EPUB/chap_02.xhtml'), delivery: 'bucket-key', expect: 'too_large' },
  { name: 'truncated EPUB', key: 'hostile/truncated.epub', body: () => readFileSync(new URL('../fixtures/formats/almanac.epub', import.meta.url)).subarray(0, 900), delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'e-mail with 1,000 attachments', key: 'hostile/flood.eml', body: () => mailWithAttachments(1000), delivery: 'bucket-key', expect: 'indexed' },
  // Issue #27's table, row by row.
  { name: '#1 58 KB DOCX of 20 MB empty runs', key: 'hostile/empty-runs.docx', body: () => docxOfEmptyRuns(20), delivery: 'bucket-key', expect: 'too_large' },
  { name: '#2 DOCX lying about its sizes', key: 'hostile/lying.docx', body: () => docxLyingAboutSize(20), delivery: 'bucket-key', expect: 'corrupt' },
  { name: '#3 PDF stream inflating to 1.5 GB', key: 'hostile/stream-bomb.pdf', body: () => pdfStreamBomb(1500), delivery: 'bucket-key', expect: 'too_large' },
  { name: '#4 PDF of form XObjects, 10^9 drawings', key: 'hostile/fan-out.pdf', body: () => pdfXObjectFanOut(), delivery: 'bucket-key', expect: 'timeout' },
  { name: '#5 200k nested <div>', key: 'hostile/nested.html', body: () => `<html><body>${'<div>'.repeat(200_000)}deep${'</div>'.repeat(200_000)}</body></html>`, delivery: 'bucket-key', expect: 'too_large' },
  { name: '#5 500k unclosed tags', key: 'hostile/unclosed.html', body: () => `<html><body>${'<span>x'.repeat(500_000)}</body></html>`, delivery: 'bucket-key', expect: 'too_large' },
  { name: '#5 Markdown list one step deeper per line', key: 'hostile/stairs.md', body: () => Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i * 2)}- item ${i}`).join('\n'), delivery: 'bucket-key', expect: 'too_large' },
  { name: '#6 small PDF expanding past the character cap', key: 'hostile/expanding.pdf', body: () => pdfTextExpansion(MAX_CHARS * 1.5), delivery: 'bucket-key', expect: 'too_large' },
  { name: '#9 HTML carrying an OSC 52 escape', key: 'hostile/osc52.html', body: () => `<p>${sentence()}</p><p>\u001b]52;c;ZWNobyBwd25lZA==\u0007${sentence()}</p>`, delivery: 'bucket-key', expect: 'indexed' },
  { name: '#12 HTML over the character cap', key: 'hostile/long.html', body: () => `<html><body><p>${'lorem ipsum dolor sit amet '.repeat(Math.ceil((MAX_CHARS * 1.5) / 27))}</p></body></html>`, delivery: 'bucket-key', expect: 'too_large' },
  // Content first: a PNG is read as one whatever its name, and this one is cut after its header.
  { name: 'broken PNG named .txt', key: 'hostile/picture.txt', body: () => PNG, delivery: 'bucket-key', expect: 'corrupt' },
  { name: 'image bomb: a PNG declaring 100,000 × 100,000 pixels', key: 'hostile/bomb.png', body: pngDeclaring(100_000, 100_000), delivery: 'bucket-key', expect: 'too_large' },
  { name: 'a scanned PDF of 10,000 pages', key: 'hostile/scans-10000.pdf', body: () => scannedPdf(Array.from({ length: 10_000 }, () => ({}))), delivery: 'bucket-key', expect: 'too_many_pages' },
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
  // Issue #27, row 13: S3 sends one record a message; ten thousand are refused, not processed under one lease.
  ['10,000 records in one message', JSON.stringify({ Records: Array.from({ length: 10_000 }, (_, i) => ({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: `k${i}` } } })) }), 'malformed_message'],
];

let scenario: Scenario | undefined;
after(async () => {
  if (scenario) await dropScenario(scenario);
});

test(`hostile input: ${FILE_CASES.length} files and ${BODY_CASES.length + 2} messages, each with its expected outcome`, { timeout: 10 * 60_000 }, async () => {
  assert.ok(FILE_CASES.length + BODY_CASES.length >= 25);
  const healthPort = await freePort();
  scenario = await createScenario('hostile', {
    notify: false,
    env: {
      FETCH_MAX_BYTES: String(CAP),
      CONVERT_MAX_CHARS: String(MAX_CHARS),
      CONVERT_MAX_SECONDS: String(MAX_SECONDS),
      NODE_OPTIONS: POD_HEAP,
      HTTP_PORT: String(healthPort),
      // Every outcome line carries its message's receive count.
      LOG_LEVEL: 'info',
    },
  });
  const files: CorpusFile[] = [];
  for (const c of FILE_CASES) if (c.body) files.push({ key: c.key, body: await c.body() });

  // The cases' written-down outcomes must agree with what the project's own stages decide.
  const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
  const computed = await expectedOutcomes(files, { ...settings, fetch: { maxBytes: CAP }, convert: { ...settings.convert, maxChars: MAX_CHARS, maxSeconds: MAX_SECONDS } }, embedder);
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
  // The pod's view while the cases run: /healthz every second (the test's poll stands in for the
  // kubelet's probe), and the resident memory of the worker with its converter processes.
  const probing = { on: true };
  let answered = 0;
  const unanswered: string[] = [];
  let podPeakMb = 0;
  const watch = (async () => {
    while (probing.on) {
      podPeakMb = Math.max(podPeakMb, treeRssMb(worker.child.pid) ?? 0);
      const started = Date.now();
      const answer = await fetch(`http://127.0.0.1:${healthPort}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
        (response) => (response.ok ? 'ok' : `HTTP ${response.status}`),
        (error: unknown) => String(error),
      );
      if (answer === 'ok') answered++;
      // Before the first answer the worker is still starting; after it, every probe must pass.
      else if (answered > 0) unanswered.push(`${new Date(started).toISOString()}: ${answer}`);
      await sleep(1000);
    }
  })();
  try {
    await settle(scenario, 8 * 60_000);
  } finally {
    probing.on = false;
    await watch;
  }
  assert.equal(worker.child.exitCode, null, 'the worker stayed up through every case');
  assert.equal(await stopWorker(worker), 0);
  assert.ok(answered >= 10, `/healthz answered ${answered} times`);
  assert.deepEqual(unanswered, [], '/healthz answered every probe while the cases ran');
  // A message is received once: no case took a worker (or a converter) down with messages in flight.
  const received = logLines(worker.stderr()).filter((line) => line.outcome !== undefined && line.receiveCount !== undefined && line.receiveCount !== 1);
  assert.deepEqual(received.map((line) => `${String(line.key ?? line.messageId)}: received ${String(line.receiveCount)} times`), []);

  const tally = await account({
    scenario: 'hostile',
    bucket: scenario.bucket,
    index: scenario.index,
    deadLetterUrl: scenario.deadLetterUrl,
    expected,
    expectedBodies: new Map(BODY_CASES.map(([, body, reason]) => [body, reason])),
  });
  process.stdout.write(`# hostile: pod peak RSS (worker and converters) ${podPeakMb} MB across all cases; /healthz answered ${answered} probes\n`);
  assertBalanced(tally);
  // The chart's default memory limit: a converter that inflated the bomb or buffered the 1.5 GB
  // stream in the worker's process would blow this.
  assert.ok(podPeakMb < POD_LIMIT_MB, `pod peak RSS ${podPeakMb} MB, over the chart's default limit of ${POD_LIMIT_MB} MB`);
});
