// The worker's logs never carry document text, vectors or credentials: a full run at the most
// verbose level, with secrets planted in its environment and a marker planted in every document
// (including ones that fail), is searched for all of them.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { makePdf } from '../fixtures/documents.js';
import { tiledTiff } from '../fixtures/tiled-tiff.js';
import { logLines, sendBody } from '../support/stack.js';
import { createScenario, dropScenario, settle, startWorker, stopWorker, upload, type Scenario } from './harness.js';

const DOCUMENT_MARKER = 'PLANTED-DOCUMENT-TEXT-7f3a9c';
const SECRETS = {
  AWS_SECRET_ACCESS_KEY: 'planted-aws-secret-9d2e41b7',
  AWS_SESSION_TOKEN: 'planted-session-token-55c1e0',
  ELASTICSEARCH_API_KEY: 'cGxhbnRlZC1hcGkta2V5OnNlY3JldA==',
  ELASTICSEARCH_PASSWORD: 'planted-es-password-a81f',
};

let scenario: Scenario | undefined;
after(async () => {
  if (scenario) await dropScenario(scenario);
});

test('no document text, vector or credential in the logs of a full run', { timeout: 5 * 60_000 }, async () => {
  // Elasticsearch runs without security in the dev stack, so it ignores the planted API key.
  scenario = await createScenario('logs', { notify: true, env: { LOG_LEVEL: 'trace', ...SECRETS } });
  await upload(scenario, [
    { key: 'logs/ok.txt', body: `An ordinary file. ${DOCUMENT_MARKER} appears in its text.` },
    { key: 'logs/page.html', body: `<p>${DOCUMENT_MARKER}</p><script>var s = "${DOCUMENT_MARKER}";</script>` },
    { key: 'logs/report.pdf', body: await makePdf([`Page one mentions ${DOCUMENT_MARKER}.`]) },
    { key: 'logs/locked.pdf', body: await makePdf([DOCUMENT_MARKER], { userPassword: 'x' }) },
    { key: 'logs/broken.pdf', body: (await makePdf([DOCUMENT_MARKER])).subarray(0, 300) },
    { key: 'logs/binary.txt', body: new Uint8Array(4096).map((_, i) => (i * 31) % 256) },
    // utif2 prints a line on the console per tiled page: it reaches the log as JSON, with the file.
    { key: 'logs/tiles.tif', body: tiledTiff([2]) },
  ]);
  await sendBody(scenario.queueUrl, `{"bucket": "${DOCUMENT_MARKER}`);
  const worker = startWorker(scenario);
  await settle(scenario, 3 * 60_000);
  assert.equal(await stopWorker(worker), 0);
  const logs = worker.output();

  assert.match(logs, /"outcome":"indexed"/, 'the run did index files (the logs are not empty of work)');
  assert.match(logs, /"outcome":"dead-lettered"/, 'and dead-lettered some');
  assert.ok(!logs.includes(DOCUMENT_MARKER), 'document text (or a body quoting it) reached the logs');
  for (const [name, value] of Object.entries(SECRETS)) assert.ok(!logs.includes(value), `${name} reached the logs`);
  assert.doesNotMatch(logs, /(-?\d\.\d{4,}\s*,\s*){16}/, 'a vector reached the logs');
  // Every line on the worker's stderr is JSON, the converter processes' output included.
  for (const line of worker.stderr().split('\n')) if (line !== '') assert.doesNotThrow(() => JSON.parse(line), `not a JSON line: ${line.slice(0, 300)}`);
  const said = logLines(logs).find((line) => line.msg === 'converter output');
  assert.ok(said, 'the converter\'s library output reached the log');
  assert.equal(said.file, `s3://${scenario.bucket}/logs/tiles.tif`);
  assert.equal(said.output, '==== 2 1');
  assert.equal(typeof said.converterPid, 'number');
  process.stdout.write(`# logs: ${logs.split('\n').length} log lines at trace level searched; no planted text, secret or vector found\n`);
});
