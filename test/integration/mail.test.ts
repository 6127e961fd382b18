// E-mail attachments through the worker: each readable attachment is a document of its own
// (`<file_path>#<name>`) written under the mail's claim, so an ObjectRemoved event for the mail
// removes the attachments' chunks with it; a mail with a thousand attachments is indexed with the
// first MAX_PARTS, and the worker goes on with the next message.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { MAX_PARTS } from '../../app/src/convert/parts.js';
import { sourceIdOf } from '../../app/src/store/document.js';
import { makeDocx } from '../fixtures/documents.js';
import { chunksByFile, createBucket, createQueueWithDeadLetter, deleteObject, es, logLines, putObject, s3Event, sendBody, sqs, startCli, takeDeadLetters, uniqueName, type TestQueue } from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

const bucket = uniqueName('mail');
const index = uniqueName('mail-index');
let queue: TestQueue;

async function drain(): Promise<string> {
  const worker = startCli(['worker', '--drain'], { SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket, ELASTICSEARCH_INDEX: index, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0' });
  const code = await worker.exited;
  assert.equal(code, 0, `worker --drain exited ${String(code)}:\n${worker.output()}`);
  return worker.stderr();
}

/** A MIME message with a text body and base64 attachments. */
function mail(subject: string, body: string, attachments: readonly { name: string; type: string; bytes: Uint8Array }[]): string {
  const parts = [`Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`];
  for (const { name, type, bytes } of attachments) {
    parts.push(`Content-Type: ${type}\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(bytes).toString('base64').replace(/.{76}/g, '$&\r\n')}`);
  }
  return `From: clerk@example.org\r\nTo: board@example.org\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts.map((part) => `--b\r\n${part}\r\n`).join('')}--b--\r\n`;
}

describe('e-mail attachments through the worker', () => {
  before(async () => {
    await createBucket(bucket);
    queue = await createQueueWithDeadLetter(uniqueName('mail-queue'));
  });

  after(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetterUrl }));
    await deleteIndexFamily(es, index);
  });

  test("attachments are indexed as <key>#<name>, and removed with their mail", async () => {
    const minutes = await makeDocx([{ paragraphs: ['The board approved the new boathouse roof at a cost of 18,500 euros.'] }]);
    const key = 'inbox/board.eml';
    const parent = `s3://${bucket}/${key}`;
    await putObject(bucket, key, mail('Minutes', 'The minutes are attached.', [
      { name: 'minutes.docx', type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', bytes: minutes },
      { name: 'logo.bin', type: 'application/octet-stream', bytes: new Uint8Array([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0, 4, 0, 0, 0, 0xff, 0xff, 0, 0]) },
    ]));
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, key));
    const log = await drain();
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
    assert.ok(logLines(log).some((line) => line.key === key && line.outcome === 'indexed'), log);

    const byFile = await chunksByFile(index);
    const attachment = byFile.get(`${parent}#minutes.docx`) ?? [];
    assert.match(attachment.map((chunk) => chunk.content).join(' '), /18,500 euros/);
    assert.ok((byFile.get(parent) ?? []).length > 0);
    assert.equal(byFile.has(`${parent}#logo.bin`), false, 'an unreadable attachment is skipped');
    for (const chunk of [...(byFile.get(parent) ?? []), ...attachment]) assert.equal(chunk.source_id, sourceIdOf(parent), 'one source_id for the mail and its parts');

    await deleteObject(bucket, key);
    await sendBody(queue.queueUrl, s3Event('ObjectRemoved:Delete', bucket, key));
    await drain();
    const afterRemoval = await chunksByFile(index);
    assert.deepEqual([...afterRemoval.keys()].filter((file) => file.startsWith(parent)), [], 'the mail and its attachments are gone');
  });

  test(`a mail with 1,000 attachments is indexed with the first ${MAX_PARTS}; the worker goes on`, async () => {
    const attachments = Array.from({ length: 1000 }, (_, i) => ({ name: `receipt-${i}.txt`, type: 'text/plain', bytes: new TextEncoder().encode(`Receipt ${i}: one coil of rope.`) }));
    await putObject(bucket, 'inbox/flood.eml', mail('Receipts', 'All the receipts.', attachments));
    await putObject(bucket, 'inbox/after.txt', 'The harbour crane was serviced on Friday.');
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, 'inbox/flood.eml'));
    await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, 'inbox/after.txt'));
    const log = await drain();
    assert.deepEqual(await takeDeadLetters(queue.deadLetterUrl), []);
    // The mail's log line says what was left out, and why.
    const line = logLines(log).find((entry) => entry.key === 'inbox/flood.eml' && entry.outcome === 'indexed');
    const skipped = (line?.attachments as { skipped?: { name: string; reason: string }[] } | undefined)?.skipped;
    assert.deepEqual(skipped?.map((part) => [part.name, part.reason]), [[`${1000 - MAX_PARTS} more`, 'too_many']]);
    const byFile = await chunksByFile(index);
    const parent = `s3://${bucket}/inbox/flood.eml`;
    const parts = [...byFile.keys()].filter((file) => file.startsWith(`${parent}#`));
    assert.equal(parts.length, MAX_PARTS);
    assert.ok(byFile.has(`${parent}#receipt-0.txt`) && !byFile.has(`${parent}#receipt-${MAX_PARTS}.txt`));
    assert.ok(byFile.has(`s3://${bucket}/inbox/after.txt`));
  });
});
