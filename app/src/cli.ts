#!/usr/bin/env node
// Entry point of the `keda-indexer` command. Each subcommand lives in its own module under
// commands/; this file only wires them into one program.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { ExitCode, reportError, settingsFor } from './commands/common.js';

// The AWS SDK warns on every command under Node 20 that its 2027 releases will need Node 22. The
// README says so once (and the image runs Node 22); repeating it in every command's output would
// bury what the command itself says. An explicit setting of the variable still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const packageJson = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };


const program = new Command()
  .name('keda-indexer')
  .description(
    'Turn a bucket of documents into a searchable vector index: S3 → convert → split → embed → Elasticsearch.',
  )
  .version(packageJson.version)
  .option('-c, --config <file>', 'JSON or YAML settings file (environment variables override it)')
  .showHelpAfterError()
  // Commander exits 1 on a bad command line; the documented code for usage errors is 2. Set before
  // the subcommands are added, which inherit it. --help and --version still exit 0.
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? 0 : ExitCode.usage);
  });

/** Runs a command body and exits with its code; errors become one clear line on stderr. */
function action<A extends unknown[]>(name: string, body: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code: number;
    try {
      code = await body(...args);
    } catch (error) {
      code = reportError(name, error);
    }
    process.exitCode = code;
  };
}

const globalOptions = (): { config?: string } => program.opts<{ config?: string }>();

program
  .command('worker')
  .description('consume the SQS queue and index each file it names')
  .option('--drain', 'exit 0 once the queue is empty and nothing is in flight')
  .addHelpText(
    'after',
    `
Examples:
  eval "$(scripts/dev-stack env)"; keda-indexer worker
  SQS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/docs \\
  ELASTICSEARCH_URL=https://es.internal:9200 keda-indexer worker --drain

Serves /healthz, /readyz and /metrics on HTTP_PORT (default 8080). SIGTERM stops receiving,
finishes work in flight within WORKER_DRAIN_DEADLINE_SECONDS and releases the rest.`,
  )
  .action(
    action('worker', async (options: { drain?: boolean }) => {
      const { runWorker } = await import('./commands/worker.js');
      return runWorker(settingsFor(globalOptions()), { drain: options.drain === true });
    }),
  );

program
  .command('index')
  .description('index local files or folders into the configured sink')
  .argument('<path...>', 'files or folders (searched recursively for .txt .md .html .pdf .docx)')
  .addHelpText(
    'after',
    `
Writes to Elasticsearch when ELASTICSEARCH_URL is set, otherwise to the embedded local store in
LOCAL_STORE_PATH (default ./.keda-indexer). Against the local store, unchanged files are skipped
and files deleted from an indexed folder are removed from the index. A file that cannot be
indexed is reported and skipped; the exit code is 1 if any failed.

Examples:
  keda-indexer index examples/
  keda-indexer index ~/papers notes.md
  ELASTICSEARCH_URL=http://127.0.0.1:9200 keda-indexer index docs/`,
  )
  .action(
    action('index', async (paths: string[]) => {
      const { runIndex } = await import('./commands/index-files.js');
      return runIndex(settingsFor(globalOptions()), paths, { out: process.stdout, err: process.stderr });
    }),
  );

program
  .command('search')
  .description('search the index')
  .argument('<query>', 'text to search for')
  .option('--k <n>', 'number of hits', '5')
  .option('--json', 'print hits as a JSON array (score, content, file_path, page_number, page_end, split_id, source_id)')
  .option('--knn-only', 'Elasticsearch: vector search alone, without fusing in BM25 keyword matches')
  .addHelpText(
    'after',
    `
Searches Elasticsearch when ELASTICSEARCH_URL is set (kNN fused with BM25 by reciprocal rank),
otherwise the local store that \`keda-indexer index\` built (kNN).

Examples:
  keda-indexer search "how do volcanoes erupt"
  keda-indexer search "sourdough starter" --k 3 --json`,
  )
  .action(
    action('search', async (query: string, options: { k: string; json?: boolean; knnOnly?: boolean }) => {
      const { runSearch } = await import('./commands/search.js');
      return runSearch(
        settingsFor(globalOptions()),
        query,
        { k: Number(options.k), json: options.json === true, hybrid: options.knnOnly !== true },
        process.stdout,
      );
    }),
  );

program
  .command('upload')
  .description('put files into the bucket (and enqueue them when no S3 notification exists)')
  .argument('<path...>', 'files, or folders (their supported files, keys relative to the folder)')
  .option('--enqueue', 'always send a message per file')
  .option('--no-enqueue', 'never send messages (the bucket notifies the queue)')
  .addHelpText(
    'after',
    `
Keys are S3_PREFIX + the file name (or the path below a given folder). Without --enqueue or
--no-enqueue, a message is sent per file only when the bucket does not notify the queue itself.

Examples:
  S3_BUCKET=docs SQS_QUEUE_URL=http://127.0.0.1:4566/000000000000/docs keda-indexer upload examples/
  keda-indexer upload report.pdf --no-enqueue`,
  )
  .action(
    action('upload', async (paths: string[], options: { enqueue?: boolean }) => {
      const { runUpload } = await import('./commands/upload.js');
      const explicit = process.argv.some((arg) => arg === '--enqueue' || arg === '--no-enqueue');
      return runUpload(settingsFor(globalOptions()), paths, explicit ? { enqueue: options.enqueue !== false } : {}, process.stdout);
    }),
  );

program
  .command('bootstrap')
  .description('create the queue, dead-letter queue, bucket, notification and index (idempotent)')
  .option('--queue-name <name>', 'queue to create (default: the name in SQS_QUEUE_URL, else keda-indexer); the DLQ is <name>-dlq')
  .option('--bucket <name>', 'bucket to create and connect (default: S3_BUCKET)')
  .option('--max-receive-count <n>', 'receives before SQS itself moves a message to the DLQ (with the default retry delays, 10 rides out ~45 min of outage)', '10')
  .option('--dims <n>', 'vector dimensions of the index (default: measured by loading EMBEDDING_MODEL)')
  .option('--skip-index', 'leave Elasticsearch alone')
  .addHelpText(
    'after',
    `
Creates what is missing and brings the rest up to date: safe to run again.

Examples:
  eval "$(scripts/dev-stack env)"
  keda-indexer bootstrap --queue-name docs --bucket docs
  ELASTICSEARCH_URL=https://es:9200 keda-indexer bootstrap --dims 384`,
  )
  .action(
    action(
      'bootstrap',
      async (options: { queueName?: string; bucket?: string; maxReceiveCount: string; dims?: string; skipIndex?: boolean }) => {
        const { runBootstrap } = await import('./commands/bootstrap.js');
        return runBootstrap(
          settingsFor(globalOptions()),
          {
            ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
            ...(options.bucket === undefined ? {} : { bucket: options.bucket }),
            maxReceiveCount: Number(options.maxReceiveCount),
            ...(options.dims === undefined ? {} : { dims: Number(options.dims) }),
            skipIndex: options.skipIndex === true,
          },
          process.stdout,
        );
      },
    ),
  );

program
  .command('redrive')
  .description('send dead-lettered messages back to the queue after a fix')
  .option('--reason <reason>', 'only messages dead-lettered with this reason (e.g. too_large)')
  .option('--dry-run', 'count what would be moved, move nothing')
  .addHelpText(
    'after',
    `
The dead-letter queue is SQS_DEAD_LETTER_QUEUE_URL, or the target of the queue's redrive policy.
Reasons and their fixes: docs/operations.md.

Examples:
  keda-indexer redrive --reason too_large --dry-run
  keda-indexer redrive --reason too_large`,
  )
  .action(
    action('redrive', async (options: { reason?: string; dryRun?: boolean }) => {
      const { runRedrive } = await import('./commands/redrive.js');
      return runRedrive(
        settingsFor(globalOptions()),
        { ...(options.reason === undefined ? {} : { reason: options.reason }), dryRun: options.dryRun === true },
        process.stdout,
      );
    }),
  );

program
  .command('backfill')
  .description('enqueue every existing object under an S3 prefix, so the worker indexes what was there before it')
  .argument('<s3-url>', 's3://bucket/prefix (the prefix may be empty: the whole bucket)')
  .option('--suffix <ending>', 'only keys ending so, case-insensitive; repeat for several (default: the types the worker reads, .txt .text .md .markdown .html .htm .xhtml .pdf .docx; "" for every key)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--modified-since <time>', 'only objects last modified at or after this time (2024-05-01 or 2024-05-01T12:00:00Z)')
  .option('--max-size <size>', 'only objects of at most this size (bytes, or with a unit: 50MB, 10MiB)')
  .option('--start-after <key>', 'resume an interrupted run: list only keys after this one (the key the run printed)')
  .option('--max-rate <n>', 'send at most n messages per second, so fresh uploads are not starved')
  .option('--force', 'ask the worker to index every object again, even when its ETag and the index settings are unchanged')
  .option('--dry-run', 'count the objects and bytes that would be enqueued; send nothing')
  .option('--json', 'print the summary as one JSON object')
  .addHelpText(
    'after',
    `
Lists the prefix with ListObjectsV2 and sends one {"bucket","key","etag","size","origin":"backfill"}
message per object to SQS_QUEUE_URL, ten per SendMessageBatch. The worker skips an object whose
ETag and index settings (model, split) are those already indexed, so running a backfill again
costs little; --force re-indexes anyway. Progress goes to stderr (a bar on a terminal, a line
every 5 s elsewhere), the summary to stdout.

Stopped (SIGINT, SIGTERM) or failed, it waits for the batches in flight and prints the key to
resume from: every key up to it is on the queue. Run the same command with --start-after KEY.

Exit codes: 0 done; 1 failed (listing or sending; the resume key is printed); 2 usage error
(bad flag or URL, SQS_QUEUE_URL not set); 130 stopped by SIGINT; 143 stopped by SIGTERM.

Examples:
  keda-indexer backfill s3://docs/ --dry-run
  keda-indexer backfill s3://docs/reports/2024/ --suffix .pdf --suffix .docx --max-rate 200
  keda-indexer backfill s3://docs/ --modified-since 2024-05-01 --max-size 50MB --json
  keda-indexer backfill s3://docs/ --start-after 'reports/2024/q3 summary.pdf'`,
  )
  .action(
    action(
      'backfill',
      async (
        url: string,
        options: { suffix: string[]; modifiedSince?: string; maxSize?: string; startAfter?: string; maxRate?: string; force?: boolean; dryRun?: boolean; json?: boolean },
      ) => {
        const { runBackfill } = await import('./commands/backfill.js');
        return runBackfill(
          settingsFor(globalOptions()),
          url,
          {
            suffix: options.suffix,
            ...(options.modifiedSince === undefined ? {} : { modifiedSince: options.modifiedSince }),
            ...(options.maxSize === undefined ? {} : { maxSize: options.maxSize }),
            ...(options.startAfter === undefined ? {} : { startAfter: options.startAfter }),
            ...(options.maxRate === undefined ? {} : { maxRate: options.maxRate }),
            force: options.force === true,
            dryRun: options.dryRun === true,
            json: options.json === true,
          },
          { out: process.stdout, err: process.stderr },
        );
      },
    ),
  );

program
  .command('doctor')
  .description('check config, credentials, endpoints and model, and say how to fix what is wrong')
  .addHelpText(
    'after',
    `
Checks settings, AWS region and credentials, the queue and its dead-letter queue, the bucket and
its notification, the model, Elasticsearch and the index mapping against the model's dims.
Exit code 1 if any check fails.

Example:
  eval "$(scripts/dev-stack env)"; SQS_QUEUE_URL=… keda-indexer doctor`,
  )
  .action(
    action('doctor', async () => {
      const { runDoctor } = await import('./commands/doctor.js');
      return runDoctor(() => settingsFor(globalOptions()), process.stdout);
    }),
  );

await program.parseAsync(process.argv);
