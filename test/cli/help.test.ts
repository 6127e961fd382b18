// Runs the built CLI (dist/cli.js, what `npx keda-indexer` starts) as a user would.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const commands = ['worker', 'index', 'search', 'upload', 'bootstrap', 'doctor', 'redrive', 'dlq', 'backfill', 'reindex'];

test('--help lists every command of the contract and exits 0', () => {
  const help = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  for (const command of commands) {
    assert.match(help, new RegExp(`^\\s+${command}\\b`, 'm'), `${command} missing from --help`);
  }
});

test('each command has its own --help', () => {
  for (const command of commands) {
    const result = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${command} --help exited ${String(result.status)}`);
    assert.match(result.stdout, new RegExp(`Usage: keda-indexer ${command}`));
  }
});

test('an unknown command is a usage error (exit 2), not a crash', () => {
  const result = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /unknown command 'frobnicate'/);
});

test('reindex and each of its subcommands have --help with examples', () => {
  for (const sub of ['', 'status', 'create', 'verify', 'flip', 'delete']) {
    const args = sub === '' ? ['reindex', '--help'] : ['reindex', sub, '--help'];
    const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    assert.equal(result.status, 0, `${args.join(' ')} exited ${String(result.status)}`);
    assert.match(result.stdout, new RegExp(`Usage: keda-indexer reindex${sub === '' ? '' : ` ${sub}`}`));
    assert.match(result.stdout, /Examples?:/);
  }
});

test('reindex create without --model is a usage error', () => {
  const result = spawnSync(process.execPath, [cli, 'reindex', 'create'], { encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--model/);
});

test('bad options and arguments exit 2 for every command, and name what is wrong', () => {
  const cases: [string[], RegExp][] = [
    [['search', 'q', '--frobnicate'], /unknown option '--frobnicate'/],
    [['backfill'], /missing required argument 's3-url'/],
    [['backfill', 'docs/reports'], /expected s3:\/\/bucket\/prefix/],
    [['backfill', 's3://docs/', '--dry-run', '--max-size', 'huge'], /option '--max-size <size>' argument 'huge' is invalid\. It must be a size/],
    [['backfill', 's3://docs/', '--dry-run', '--modified-since', 'last week'], /option '--modified-since <time>' argument 'last week' is invalid\. It must be a date or a time/],
    [['backfill', 's3://docs/', '--dry-run', '--max-rate', '0'], /option '--max-rate <n>' argument '0' is invalid\. It must be a number above 0/],
    [['backfill', 's3://docs/'], /SQS_QUEUE_URL is not set/],
  ];
  for (const [args, message] of cases) {
    const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, SQS_QUEUE_URL: '' } });
    assert.equal(result.status, 2, `${args.join(' ')} exited ${String(result.status)}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test('backfill --help documents its exit codes', () => {
  const help = execFileSync(process.execPath, [cli, 'backfill', '--help'], { encoding: 'utf8' });
  assert.match(help, /Exit codes: 0 done; 1 failed .*; 2 usage error/s);
  assert.match(help, /130 stopped by SIGINT; 143 stopped by SIGTERM/);
});

test('dlq list has --help with examples and says what listing does to the messages', () => {
  const help = execFileSync(process.execPath, [cli, 'dlq', 'list', '--help'], { encoding: 'utf8' });
  assert.match(help, /Usage: keda-indexer dlq list/);
  assert.match(help, /--reason <reason>/);
  assert.match(help, /--max <n>/);
  assert.match(help, /ApproximateReceiveCount/);
  assert.match(help, /Examples:/);
});
