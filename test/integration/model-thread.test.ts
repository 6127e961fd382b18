// The embedding model's session runs in a thread of its own (app/src/embed/model-thread.ts), and
// a worker preloads it before transformers.js asks for it (preload.ts). With the real model.
// Each test runs in a fresh process: the preload and the backend registration are per process.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const model = process.env.EMBEDDING_MODEL ?? '';

/** Runs a script in a fresh Node process (TypeScript sources through tsx) and returns its last stdout line as JSON. */
function inFreshProcess(script: string): Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, MODEL: model },
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

const prelude = `
import { createEmbedder } from './app/src/embed/embedder.ts';
import { preloadModel } from './app/src/embed/preload.ts';
import { silentLogger } from './app/src/observe/logger.ts';
const model = process.env.MODEL;
const load = (threads) => createEmbedder({ model, device: 'cpu', dtype: 'fp32', threads, logger: silentLogger() });
`;

test('the session preloaded for the settings is the one the embedder uses, and embeds as a fresh one does', () => {
  const result = inFreshProcess(`${prelude}
    await preloadModel({ model, device: 'cpu', dtype: 'fp32', threads: 1 });
    const preloaded = await load(1);
    const fresh = await load(1);
    const [a] = await preloaded.embed(['the worker preloads its model'], 'passage');
    const [b] = await fresh.embed(['the worker preloads its model'], 'passage');
    console.log(JSON.stringify({ first: preloaded.preload, second: fresh.preload, same: a.every((x, i) => x === b[i]), dims: a.length }));
    await preloaded.dispose();
    await fresh.dispose();
  `);
  assert.equal(result.first, 'used');
  assert.equal(result.second, 'none', 'one preload, taken once');
  assert.equal(result.dims, 384);
  assert.equal(result.same, true, 'a preloaded session gives the same vector, bit for bit');
});

test('a preload for other settings is dropped, and the embedder loads its own session', () => {
  const result = inFreshProcess(`${prelude}
    await preloadModel({ model, device: 'cpu', dtype: 'fp32', threads: 1 });
    const embedder = await load(2);
    const [vector] = await embedder.embed(['other settings'], 'passage');
    console.log(JSON.stringify({ preload: embedder.preload, dims: vector.length }));
    await embedder.dispose();
  `);
  assert.deepEqual(result, { preload: 'missed', dims: 384 });
});

test('after dispose a model call fails with a clear error instead of waiting forever, and the process exits', () => {
  const result = inFreshProcess(`${prelude}
    const embedder = await load(1);
    await embedder.dispose();
    const outcome = await embedder.embed(['too late'], 'passage').then(() => 'embedded', (error) => error.message);
    console.log(JSON.stringify({ outcome }));
  `);
  assert.match(String(result.outcome), /model thread exited/);
});

for (const [how, body, reason] of [
  ['exits', 'setTimeout(() => process.exit(3), 50)', 'Error: the model thread exited \\(code 3\\)'],
  ['throws', 'setTimeout(() => { throw new Error("boom in the thread"); }, 50)', 'Error: the model thread failed: boom in the thread'],
] as const) {
  test(`a model thread that ${how} on its own ends the process with the reason, before any caller can act on the failure`, () => {
    // A real thread that dies by itself, supervised as the model thread is: the path a bug in the
    // thread's own code would take (onnxruntime's native crashes end the process anyway). The
    // process must end before the waiting call's rejection is handled: a pipeline that took it for
    // the file's own failure could dead-letter the file, where a restart returns it to the queue.
    const script = `
      import { Worker } from 'node:worker_threads';
      import { ModelThread } from './app/src/embed/model-thread.ts';
      const thread = new ModelThread(() => {
        const worker = new Worker(${JSON.stringify(body)}, { eval: true });
        // The process ends on the tick after the thread dies: this runs only if it wrongly lives on.
        worker.once('exit', () => setImmediate(() => console.log('still running')));
        return worker;
      });
      thread.request({ kind: 'dispose' }).then(
        () => console.log('answered'),
        (error) => console.log('rejected: ' + error.message),
      );
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(run.stdout.trim(), '', 'no caller saw the failure, and nothing ran on');
    assert.notEqual(run.status, 0, 'the process must not go on without its model thread');
    assert.match(run.stderr, new RegExp(reason));
  });
}

for (const [what, body] of [
  ['a spare thread started ahead, never asked for anything', `registerModelThreadBackend();`],
  ['a thread whose request has been answered', `const thread = new ModelThread(); await thread.request({ kind: 'dispose' });`],
] as const) {
  test(`an idle model thread does not hold the process open: ${what}`, (t) => {
    // Every command that failed to load its model hung on a spare thread, which held the process
    // open with nothing to do (issue #28).
    const script = `
      import { ModelThread, registerModelThreadBackend } from './app/src/embed/model-thread.ts';
      ${body}
      console.log('done');
    `;
    const started = performance.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    const seconds = (performance.now() - started) / 1000;
    t.diagnostic(`exited in ${seconds.toFixed(2)} s`);
    assert.equal(run.signal, null, `killed after 30 s: the thread held the process open (stderr: ${run.stderr})`);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'done');
  });
}
