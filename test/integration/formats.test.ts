// Every format through the whole product: each file of test/fixtures/formats is uploaded to moto,
// announced on the queue, indexed by `worker --drain` into Elasticsearch with the real model, and
// then `search` must find the fact that only that file holds (test/fixtures/formats/README.md).
// A format is added to this test by adding its file and a `<file>.fact.json` beside it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { createBucket, createQueueWithDeadLetter, es, keysWithOutcome, putObject, s3Event, sendBody, sqs, startCli, takeDeadLetters, uniqueName, type TestQueue } from '../support/stack.js';
import { deleteIndexFamily } from '../support/indices.js';

interface Fact {
  readonly question: string;
  readonly expect: string;
  readonly page?: number;
  readonly section?: string;
  readonly ocr?: boolean;
  /** The attachment (a part of the file) that holds the fact: hits then name `<file_path>#<part>`. */
  readonly part?: string;
}

interface Hit {
  readonly file_path: string;
  readonly content: string;
  readonly page_number?: number;
  readonly section?: string;
  readonly ocr?: boolean;
}

const folder = new URL('../fixtures/formats/', import.meta.url);
const fixtures = readdirSync(folder)
  .filter((name) => name.endsWith('.fact.json'))
  .map((factFile) => {
    const name = factFile.slice(0, -'.fact.json'.length);
    return { name, bytes: readFileSync(new URL(name, folder)), fact: JSON.parse(readFileSync(new URL(factFile, folder), 'utf8')) as Fact };
  });

const bucket = uniqueName('formats');
const index = uniqueName('formats-index');
let queue: TestQueue;
const keyOf = (name: string) => `bucket-of-everything/${name}`;
const squeeze = (text: string) => text.replace(/\s+/g, ' ').toLowerCase();

describe('every format through the worker and search', () => {
  before(async () => {
    await createBucket(bucket);
    queue = await createQueueWithDeadLetter(uniqueName('formats-queue'));
    for (const { name, bytes } of fixtures) {
      await putObject(bucket, keyOf(name), bytes);
      await sendBody(queue.queueUrl, s3Event('ObjectCreated:Put', bucket, keyOf(name), { size: bytes.length }));
    }
    const worker = startCli(['worker', '--drain'], { SQS_QUEUE_URL: queue.queueUrl, S3_ALLOWED_BUCKETS: bucket, ELASTICSEARCH_INDEX: index, SQS_WAIT_TIME_SECONDS: '1', HTTP_PORT: '0' });
    const code = await worker.exited;
    assert.equal(code, 0, `worker --drain exited ${String(code)}:\n${worker.output()}`);
    const deadLetters = await takeDeadLetters(queue.deadLetterUrl);
    assert.deepEqual(deadLetters.map((letter) => `${letter.body.slice(0, 200)}: ${letter.reason} ${letter.error}`), [], 'no fixture is dead-lettered');
    assert.deepEqual(keysWithOutcome(worker.stderr(), 'indexed'), fixtures.map(({ name }) => keyOf(name)).sort());
  });

  after(async () => {
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.queueUrl }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queue.deadLetterUrl }));
    await deleteIndexFamily(es, index);
  });

  for (const { name, fact } of fixtures) {
    test(`${name}: search finds "${fact.expect}"`, async () => {
      const search = startCli(['search', '--json', '--k', '5', fact.question], { ELASTICSEARCH_INDEX: index });
      assert.equal(await search.exited, 0, search.output());
      const hits = JSON.parse(search.stdout()) as Hit[];
      const filePath = `s3://${bucket}/${keyOf(name)}${fact.part === undefined ? '' : `#${fact.part}`}`;
      const holding = hits.find((hit) => hit.file_path === filePath && squeeze(hit.content).includes(squeeze(fact.expect)));
      // Among the first hits, not necessarily the first: the fixtures are written by many hands and
      // some share a subject (tides, harbours); the fact itself is only in this file.
      assert.ok(holding, `a hit of ${name} in the first ${hits.length} holds "${fact.expect}":\n${hits.map((hit) => `${hit.file_path}: ${hit.content.slice(0, 200)}`).join('\n---\n')}`);
      if (fact.page !== undefined) assert.equal(holding.page_number, fact.page, 'the page cited');
      if (fact.section !== undefined) assert.equal(holding.section, fact.section, 'the section named');
      if (fact.ocr !== undefined) assert.equal(holding.ocr, fact.ocr, 'ocr');
    });
  }
});
