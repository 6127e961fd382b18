#!/usr/bin/env node
// Entry point of the `keda-indexer` command. Each subcommand lives in its own module under
// commands/; this file only wires them into one program.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

/** Exit codes, documented in the README. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  notImplemented: 3,
} as const;

function notYet(command: string, issue: number): () => never {
  return () => {
    process.stderr.write(
      `keda-indexer ${command}: not implemented yet (tracked in issue #${issue}).\n`,
    );
    process.exit(ExitCode.notImplemented);
  };
}

const program = new Command()
  .name('keda-indexer')
  .description(
    'Turn a bucket of documents into a searchable vector index: S3 → convert → split → embed → Elasticsearch.',
  )
  .version(packageJson.version)
  .showHelpAfterError();

program
  .command('worker')
  .description('consume the SQS queue and index each file it names')
  .option('--drain', 'exit 0 once the queue is empty and nothing is in flight')
  .action(notYet('worker', 3));

program
  .command('index')
  .description('index local files or folders into the configured sink')
  .argument('<path...>', 'files or folders (searched recursively for supported types)')
  .action(notYet('index', 5));

program
  .command('search')
  .description('search the index')
  .argument('<query>', 'text to search for')
  .option('--k <n>', 'number of hits', '5')
  .option('--json', 'print hits as a JSON array')
  .action(notYet('search', 5));

program
  .command('upload')
  .description('put files into the bucket (and enqueue them when no S3 notification exists)')
  .argument('<file...>', 'files to upload')
  .action(notYet('upload', 5));

program
  .command('bootstrap')
  .description('create the queue, dead-letter queue, bucket, notification and index (idempotent)')
  .action(notYet('bootstrap', 5));

program
  .command('doctor')
  .description('check config, credentials, endpoints and model, and say how to fix what is wrong')
  .action(notYet('doctor', 5));

await program.parseAsync(process.argv);
