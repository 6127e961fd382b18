// Every command that loads the embedding model ends when it cannot: with the documented exit code
// (README, "Commands and exit codes") and a message that names the setting or flag to fix, in the
// project's words rather than transformers.js's (issue #28). They used to print the error and then
// hang on an idle model thread. The built CLI, spawned as a user runs it; the commands that need
// services get the dev stack's environment, and each test checks that the model's failure, not a
// service's, is what it saw.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI } from '../support/cli.js';
import { minilmModel } from '../support/models.js';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
/** Generous: a loaded machine must not fail these; a command that hangs would never end. */
const KILL_AFTER_MS = 30_000;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'model-startup-failures-'));
/** A copy of the real model folder whose weights are garbage: every other file is the real one. */
const corrupt = path.join(scratch, 'corrupt-model');
/** An empty hub cache: with the hub unreachable here, a hub id cannot be found anywhere. */
const emptyCache = path.join(scratch, 'hub-cache');

interface BadModel {
  readonly cause: string;
  readonly model: () => string;
  /** Exit code of a command that loads the model (doctor reports it as a failed check: 1). */
  readonly code: number;
  /** What the message must say, besides naming the setting. */
  readonly says: RegExp;
}

const badModels: readonly BadModel[] = [
  { cause: 'unreachable hub (a hub id)', model: () => 'Xenova/all-MiniLM-L6-v2', code: 1, says: /Hugging Face hub .* not reachable/ },
  { cause: 'missing folder', model: () => '/nonexistent', code: 2, says: /\/nonexistent: no such folder/ },
  { cause: 'empty value', model: () => '', code: 2, says: /is empty/ },
  { cause: 'corrupt weights', model: () => corrupt, code: 1, says: /could not load its weights, onnx\/model\.onnx \(Protobuf parsing failed\)/ },
];

/** transformers.js's and Node's own words, which tell a user nothing they can act on. */
const INTERNALS = /local_files_only|allowRemoteModels|localModelPath|\.\.(?!\.)|^\s+at |TypeError|\[object |undefined/m;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Seconds from start to exit, and from the first line naming the setting to exit. */
  readonly seconds: number;
  readonly afterMessage: number | undefined;
  /** Answers /readyz gave while the command ran (a worker with HTTP_PORT). */
  readonly readyz: readonly number[];
}

async function runCli(args: readonly string[], env: Record<string, string>, names: RegExp, readyzPort?: number): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let messageAt: number | undefined;
  const seen = (): void => {
    if (messageAt === undefined && (names.test(stdout) || names.test(stderr))) messageAt = performance.now();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    seen();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    seen();
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  const readyz: number[] = [];
  const polls = { running: true };
  const polling =
    readyzPort === undefined
      ? Promise.resolve()
      : (async () => {
          while (polls.running) {
            try {
              readyz.push((await fetch(`http://127.0.0.1:${readyzPort}/readyz`, { signal: AbortSignal.timeout(1000) })).status);
            } catch {
              // Not listening (yet, or any more).
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })();
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  const ended = performance.now();
  clearTimeout(kill);
  polls.running = false;
  await polling;
  return {
    code,
    signal,
    stdout,
    stderr,
    seconds: (ended - started) / 1000,
    afterMessage: messageAt === undefined ? undefined : (ended - messageAt) / 1000,
    readyz,
  };
}

interface Command {
  readonly name: string;
  /** Arguments and environment for a bad model; `setting` is what the message must name. */
  readonly run: (model: string) => { args: string[]; env: Record<string, string>; setting: string };
  readonly needsStack: boolean;
  readonly readyz?: boolean;
}

let port = 0;
const commands: readonly Command[] = [
  { name: 'index', needsStack: false, run: (model) => ({ args: ['index', examples], env: { EMBEDDING_MODEL: model, LOCAL_STORE_PATH: path.join(scratch, 'store'), ELASTICSEARCH_URL: '' }, setting: 'EMBEDDING_MODEL' }) },
  { name: 'bootstrap', needsStack: true, run: (model) => ({ args: ['bootstrap', '--queue-name', `startup-failures-${process.pid}`], env: { EMBEDDING_MODEL: model, S3_BUCKET: '' }, setting: 'EMBEDDING_MODEL' }) },
  {
    name: 'worker',
    needsStack: true,
    readyz: true,
    run: (model) => ({
      args: ['worker'],
      env: { EMBEDDING_MODEL: model, SQS_QUEUE_URL: `${process.env.AWS_ENDPOINT_URL ?? ''}/000000000000/startup-failures-${process.pid}`, S3_BUCKET: 'startup-failures', HTTP_PORT: String(port) },
      setting: 'EMBEDDING_MODEL',
    }),
  },
  { name: 'doctor', needsStack: true, run: (model) => ({ args: ['doctor'], env: { EMBEDDING_MODEL: model }, setting: 'EMBEDDING_MODEL' }) },
  // What matters to reindex create is its --model; EMBEDDING_MODEL stays a good model.
  { name: 'reindex create', needsStack: true, run: (model) => ({ args: ['reindex', 'create', '--model', model], env: { ELASTICSEARCH_INDEX: `startup-failures-${process.pid}` }, setting: '--model' }) },
];

const stackUp = process.env.AWS_ENDPOINT_URL !== undefined && (process.env.ELASTICSEARCH_URL ?? '') !== '';

describe('a command that cannot load its model ends, with the documented code and a message naming what to fix', () => {
  before(async () => {
    const real = minilmModel();
    mkdirSync(path.join(corrupt, 'onnx'), { recursive: true });
    for (const entry of readdirSync(real)) if (entry !== 'onnx') symlinkSync(path.join(real, entry), path.join(corrupt, entry));
    for (const weights of readdirSync(path.join(real, 'onnx'))) writeFileSync(path.join(corrupt, 'onnx', weights), 'not an onnx model\n'.repeat(64));
    mkdirSync(emptyCache);
    port = await freePort();
  });
  after(() => {
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const command of commands) {
    for (const bad of badModels) {
      test(`${command.name}: ${bad.cause}`, { skip: command.needsStack && !stackUp ? 'needs the dev stack (eval "$(scripts/dev-stack up)")' : false }, async (t: TestContext) => {
        const { args, env, setting } = command.run(bad.model());
        const names = new RegExp(setting.replace(/[-]/g, '\\$&'));
        const outcome = await runCli(args, { EMBEDDING_CACHE_DIR: emptyCache, EMBEDDING_DEVICE: 'cpu', ...env }, names, command.readyz === true ? port : undefined);
        t.diagnostic(`exited in ${outcome.seconds.toFixed(2)} s, ${outcome.afterMessage?.toFixed(2) ?? '?'} s after the message; code ${String(outcome.code)}${command.readyz === true ? `; /readyz answered ${outcome.readyz.join(',') || 'nothing'}` : ''}`);
        const said = `${outcome.stdout}\n${outcome.stderr}`;
        assert.equal(outcome.signal, null, `still running after ${KILL_AFTER_MS / 1000} s: it hung after the error\n${said}`);

        // The message, from the line that names the model's problem (a worker's stderr also holds
        // its JSON log lines; doctor prints its checks on stdout).
        const line = said.split('\n').find((text) => names.test(text) && !text.startsWith('{'));
        assert.ok(line !== undefined, `no line names ${setting}: the command failed on something else\n${said}`);
        if (!(command.name === 'reindex create' && bad.cause === 'empty value')) assert.match(line, bad.says);
        assert.doesNotMatch(line, INTERNALS);
        if (setting === '--model') assert.doesNotMatch(said, /EMBEDDING_MODEL/, 'reindex create advises its --model, not EMBEDDING_MODEL');

        const expected = command.name === 'doctor' ? 1 : bad.code;
        assert.equal(outcome.code, expected, said);
        if (command.name === 'doctor') assert.match(outcome.stdout, /model/);
        if (command.readyz === true) {
          assert.ok(!outcome.readyz.includes(200), `/readyz answered 200 for a worker without a model: ${outcome.readyz.join(',')}`);
        }
      });
    }
  }
});
