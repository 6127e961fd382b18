#!/usr/bin/env node
// Entry point of the `keda-indexer` command. Each subcommand lives in its own module under
// commands/; this file only wires them into one program.
import { readFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { Command, Option } from 'commander';
import { ExitCode, reportError, settingsFor } from './commands/common.js';
import * as parse from './commands/flags.js';
import { SUPPORTED_EXTENSIONS } from './convert/registry.js';
import { EMBEDDING_DTYPES, type EmbeddingDtype } from './embed/choices.js';
import { preloadModel } from './embed/preload.js';
import { DEAD_LETTER_REASONS, type DeadLetterReason } from './failure.js';
import type { SearchFilter } from './store/filters.js';

// The AWS SDK warns on every command under Node 20 that its 2027 releases will need Node 22. The
// README says so once (and the image runs Node 22); repeating it in every command's output would
// bury what the command itself says. An explicit setting of the variable still wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Node's compile cache (Node 22.1 and later; absent before): every start after the first reads
// V8's compiled code for the commands' modules, loaded below by dynamic imports, instead of
// compiling them again. The folder is NODE_COMPILE_CACHE's (the image's, made at build:
// docs/image.md), else Node's own under the temporary folder; NODE_DISABLE_COMPILE_CACHE=1 turns
// it off. Node never fails a start for it: a folder it cannot write is left alone.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

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
  .option('--drain', 'exit 0 once the queue is empty and nothing is in flight (the last, empty receive waits SQS_WAIT_TIME_SECONDS: set it to 1 or 2 for a quick local drain)')
  .addHelpText(
    'after',
    `
Examples:
  eval "$(scripts/dev-stack env)"; keda-indexer worker
  SQS_WAIT_TIME_SECONDS=2 keda-indexer worker --drain
  SQS_QUEUE_URL=https://sqs.eu-west-1.amazonaws.com/123456789012/docs \\
  ELASTICSEARCH_URL=https://es.internal:9200 keda-indexer worker --drain

Serves /healthz, /readyz and /metrics on HTTP_PORT (default 8080). SIGTERM stops receiving,
finishes work in flight within WORKER_DRAIN_DEADLINE_SECONDS and releases the rest.
Writes to the index behind the ELASTICSEARCH_INDEX alias (creating <alias>-v1-<model> and the
alias when nothing exists); stops the same way, exit 0, when \`keda-indexer reindex flip\` moves
the alias away from that index.`,
  )
  .action(
    action('worker', async (options: { drain?: boolean }) => {
      const settings = settingsFor(globalOptions());
      // The model's session loads in a thread from here while the worker's code loads.
      await preloadModel(settings.embedding);
      const { runWorker } = await import('./commands/worker.js');
      return runWorker(settings, { drain: options.drain === true });
    }),
  );

program
  .command('index')
  .description('index local files or folders into the configured sink')
  .argument('<path...>', `files or folders (searched recursively for ${SUPPORTED_EXTENSIONS.join(' ')})`)
  .addHelpText(
    'after',
    `
Writes to the store STORE names: elasticsearch, or local (the embedded store in LOCAL_STORE_PATH,
default ./.keda-indexer); STORE empty: Elasticsearch when ELASTICSEARCH_URL is set, else local.
Files unchanged since they were indexed (size, modification time, model and split settings) are
skipped; against the local store, files deleted from an indexed folder are also removed from the
index. A file that cannot be indexed is reported
and skipped; the exit code is 1 if any failed.

Examples:
  keda-indexer index examples/
  keda-indexer index ~/papers notes.md
  ELASTICSEARCH_URL=http://127.0.0.1:9200 keda-indexer index docs/`,
  )
  .action(
    action('index', async (paths: string[]) => {
      const settings = settingsFor(globalOptions());
      await preloadModel(settings.embedding);
      const { runIndex } = await import('./commands/index-files.js');
      return runIndex(settings, paths, { out: process.stdout, err: process.stderr });
    }),
  );

program
  .command('search')
  .description('search the index')
  .argument('<query>', 'text to search for')
  .option('--k <n>', 'number of hits (1–1000)', parse.hitCount, 5)
  .option('--json', 'print hits as a JSON array (score, content, file_path, page_number, page_end, section, ocr, ocr_confidence, split_id, source_id, meta)')
  .option('--knn-only', 'Elasticsearch: vector search alone, without fusing in BM25 keyword matches')
  .option('--filter <name=value>', 'only chunks whose metadata matches: name=value, name=a,b (any of), name>=value (>, <=, <); repeatable, all must hold', parse.searchFilter, [])
  .option('--as <principals>', 'search for these principals (group:finance,user:ana): only chunks they may read')
  .option('--all', 'operator: search every chunk, whatever its access fields')
  .addHelpText(
    'after',
    `
Searches the store STORE names (empty: Elasticsearch when ELASTICSEARCH_URL is set, else the local
store that \`keda-indexer index\` built): Elasticsearch fuses kNN with BM25 by reciprocal rank, the
local store ranks by kNN.

Examples:
  keda-indexer search "how do volcanoes erupt"
  keda-indexer search "sourdough starter" --k 3 --json
  keda-indexer search "travel costs" --filter department=finance --filter 'effective>=2024-01-01' --as group:finance,user:ana

Where files carry access fields (ACL_METADATA_KEY), search refuses without --as or --all.`,
  )
  .action(
    action('search', async (query: string, options: { k: number; json?: boolean; knnOnly?: boolean; filter: SearchFilter[]; as?: string; all?: boolean }) => {
      const { runSearch } = await import('./commands/search.js');
      const reader = parse.reader(options);
      return runSearch(
        settingsFor(globalOptions()),
        query,
        { k: options.k, json: options.json === true, hybrid: options.knnOnly !== true, filters: options.filter, ...(reader === undefined ? {} : { reader }) },
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
  .option('--bucket-account <id>', "account that owns the bucket, for the queue policy's aws:SourceAccount (default: the queue's account)", parse.awsAccount)
  .option('--max-receive-count <n>', 'receives before SQS itself moves a message to the DLQ, 1–1000 (with the default retry delays, 10 rides out ~45 min of outage)', parse.receiveCount, 10)
  .option('--dims <n>', 'vector dimensions of the index, 1–4096 (default: measured by loading EMBEDDING_MODEL)', parse.dims)
  .option('--skip-index', 'leave Elasticsearch alone')
  .option('--skip-bucket', 'leave the bucket and its notification alone (a queue filled by backfill only, e.g. for reindex)')
  .addHelpText(
    'after',
    `
Creates what is missing and brings the rest up to date: safe to run again.
The notification is merged: bootstrap adds or updates its own configuration for this queue (Id
keda-indexer-<queue>, events ObjectCreated/ObjectRemoved, and ObjectTagging with S3_READ_TAGS, prefix S3_PREFIX) and keeps every other
one. It refuses, changing nothing (exit 1), when another configuration's events and prefix/suffix
overlap its own, which S3 would reject: give each pipeline on a bucket its own prefix, or pass
--skip-bucket for a queue that needs no notification.

Examples:
  eval "$(scripts/dev-stack env)"
  keda-indexer bootstrap --queue-name docs --bucket docs
  S3_PREFIX=tickets/ keda-indexer bootstrap --queue-name tickets --bucket docs
  keda-indexer bootstrap --queue-name documents-reindex --skip-bucket --skip-index
  ELASTICSEARCH_URL=https://es:9200 keda-indexer bootstrap --dims 384`,
  )
  .action(
    action(
      'bootstrap',
      async (options: { queueName?: string; bucket?: string; bucketAccount?: string; maxReceiveCount: number; dims?: number; skipIndex?: boolean; skipBucket?: boolean }) => {
        const { runBootstrap } = await import('./commands/bootstrap.js');
        return runBootstrap(
          settingsFor(globalOptions()),
          {
            ...(options.queueName === undefined ? {} : { queueName: options.queueName }),
            ...(options.bucket === undefined ? {} : { bucket: options.bucket }),
            ...(options.bucketAccount === undefined ? {} : { bucketAccount: options.bucketAccount }),
            maxReceiveCount: options.maxReceiveCount,
            ...(options.dims === undefined ? {} : { dims: options.dims }),
            skipIndex: options.skipIndex === true,
            skipBucket: options.skipBucket === true,
          },
          process.stdout,
        );
      },
    ),
  );

program
  .command('redrive')
  .description('send dead-lettered messages back to the queue after a fix')
  // A reason outside the set is a usage error listing the valid ones: a typo must not move nothing
  // and say "moved 0" as if the queue held none.
  .addOption(new Option('--reason <reason>', 'only messages dead-lettered with this reason (e.g. too_large)').choices(DEAD_LETTER_REASONS))
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
    action('redrive', async (options: { reason?: DeadLetterReason; dryRun?: boolean }) => {
      const { runRedrive } = await import('./commands/redrive.js');
      return runRedrive(
        settingsFor(globalOptions()),
        { ...(options.reason === undefined ? {} : { reason: options.reason }), dryRun: options.dryRun === true },
        process.stdout,
      );
    }),
  );

const dlq = program
  .command('dlq')
  .description('look at the dead-letter queue: which files failed, why and when')
  .addHelpText('after', '\nExample:\n  keda-indexer dlq list --reason too_large');

dlq
  .command('list')
  .description('list the files waiting in the dead-letter queue with reason and time, without consuming them')
  .addOption(new Option('--reason <reason>', 'only messages dead-lettered with this reason').choices(DEAD_LETTER_REASONS))
  .option('--max <n>', 'read at most n messages (the rest are counted, not listed)', parse.readLimit, 1000)
  .option('--json', 'print one JSON object: counts by reason and the messages (reason, error, failed_at, files)')
  .addHelpText(
    'after',
    `
The dead-letter queue is SQS_DEAD_LETTER_QUEUE_URL, or the target of the queue's redrive policy.
Each message is received once, hidden while the listing runs and made visible again when it ends:
nothing is consumed or moved. Receiving raises a message's ApproximateReceiveCount; if the
dead-letter queue had a redrive policy of its own that could move messages on, so the listing
refuses (docs/operations.md, "Watching it").

Examples:
  keda-indexer dlq list
  keda-indexer dlq list --reason too_large --json
  keda-indexer dlq list --max 50`,
  )
  .action(
    action('dlq list', async (options: { reason?: DeadLetterReason; max: number; json?: boolean }) => {
      const { runDlqList } = await import('./commands/dlq.js');
      return runDlqList(
        settingsFor(globalOptions()),
        { ...(options.reason === undefined ? {} : { reason: options.reason }), max: options.max, json: options.json === true },
        process.stdout,
      );
    }),
  );

program
  .command('backfill')
  .description('enqueue every existing object under an S3 prefix, so the worker indexes what was there before it')
  .argument('<s3-url>', 's3://bucket/prefix (the prefix may be empty: the whole bucket)')
  .option('--suffix <ending>', `only keys ending so, case-insensitive; repeat for several (default: the types the worker reads, ${SUPPORTED_EXTENSIONS.join(' ')}; "" for every key)`, (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--modified-since <time>', 'only objects last modified at or after this time (2024-05-01 or 2024-05-01T12:00:00Z)', parse.time)
  .option('--max-size <size>', 'only objects of at most this size (bytes, or with a unit: 50MB, 10MiB)', parse.size)
  .option('--start-after <key>', 'resume an interrupted run: list only keys after this one (the key the run printed)')
  .option('--max-rate <n>', 'send at most n messages per second, so fresh uploads are not starved', parse.rate)
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
        options: { suffix: string[]; modifiedSince?: Date; maxSize?: number; startAfter?: string; maxRate?: number; force?: boolean; dryRun?: boolean; json?: boolean },
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
Exit code 2 if the settings are invalid (nothing else is checked then), else 1 if any check fails.

Example:
  eval "$(scripts/dev-stack env)"; SQS_QUEUE_URL=… keda-indexer doctor`,
  )
  .action(
    action('doctor', async () => {
      const { runDoctor } = await import('./commands/doctor.js');
      return runDoctor(() => settingsFor(globalOptions()), process.stdout);
    }),
  );

const reindex = program
  .command('reindex')
  .description('change the embedding model without downtime: a new index beside the live one, then an atomic alias flip')
  .addHelpText(
    'after',
    `
ELASTICSEARCH_INDEX is an alias over physical indices <alias>-v<N>-<model>, each recording its
model in the mapping _meta; search embeds queries with the model of the index the alias points at.

Examples: the whole flow (docs/operations.md, "Change the embedding model")
  keda-indexer reindex create --model Xenova/e5-small-v2   # next version, not behind the alias
  # run a second pipeline with the printed settings and its own queue; fill that queue:
  SQS_QUEUE_URL=<its queue> keda-indexer backfill s3://docs/
  keda-indexer reindex verify                              # every file present, chunk counts sane
  keda-indexer reindex flip                                # atomic; the old index is kept
  keda-indexer reindex flip --rollback                     # back to the old index
  keda-indexer reindex delete                              # drop the old index when sure

Exit codes: 0 done; 1 failed or refused (verify found missing files, flip refused, Elasticsearch
error); 2 usage error (bad option, setting missing).`,
  );

reindex
  .command('status')
  .description('show where the alias points and every version of the index with its model and counts')
  .addHelpText('after', '\nExample:\n  ELASTICSEARCH_INDEX=documents keda-indexer reindex status')
  .action(
    action('reindex status', async () => {
      const { runReindexStatus } = await import('./commands/reindex.js');
      return runReindexStatus(settingsFor(globalOptions()), process.stdout);
    }),
  );

reindex
  .command('create')
  .description('create the next version of the index for another model (the alias stays where it is)')
  .requiredOption('--model <id-or-path>', 'Hugging Face id, or absolute path of a local model folder (scripts/fetch-model --model NAME)')
  .option('--dims <n>', 'vector dimensions, 1–4096 (default: measured by loading the model)', parse.dims)
  .addOption(new Option('--dtype <dtype>', 'weights the new pipeline loads (default: EMBEDDING_DTYPE, or the folder\'s keda-indexer.json)').choices(EMBEDDING_DTYPES))
  .option('--passage-prefix <text>', 'put before every chunk (default: the model\'s known prefix, e.g. "passage: " for e5)')
  .option('--query-prefix <text>', 'put before every query (default: the model\'s known prefix, e.g. "query: " for e5)')
  .addHelpText(
    'after',
    `
Prints the settings of the second pipeline that fills the new index.

Examples:
  keda-indexer reindex create --model Xenova/e5-small-v2
  keda-indexer reindex create --model "$(scripts/fetch-model --model e5-small-v2)"
  keda-indexer reindex create --model BAAI/bge-small-en-v1.5 --dims 384 \\
    --query-prefix "Represent this sentence for searching relevant passages: "`,
  )
  .action(
    action('reindex create', async (options: { model: string; dims?: number; dtype?: EmbeddingDtype; passagePrefix?: string; queryPrefix?: string }) => {
      const { runReindexCreate } = await import('./commands/reindex.js');
      return runReindexCreate(
        settingsFor(globalOptions()),
        {
          model: options.model,
          ...(options.dims === undefined ? {} : { dims: options.dims }),
          ...(options.dtype === undefined ? {} : { dtype: options.dtype }),
          ...(options.passagePrefix === undefined ? {} : { passagePrefix: options.passagePrefix }),
          ...(options.queryPrefix === undefined ? {} : { queryPrefix: options.queryPrefix }),
        },
        process.stdout,
      );
    }),
  );

reindex
  .command('verify')
  .description('check that every file of the live index is in the new one, with a sane chunk count')
  .option('--from <index>', 'the index to compare against (default: the one the alias points at)')
  .option('--to <index>', 'the new index (default: the newest version the alias does not point at)')
  .option('--max-chunk-ratio <n>', 'a file\'s chunk count may change by this factor at most (≥ 1)', parse.chunkRatio, 4)
  .addHelpText(
    'after',
    `
Lists every missing file and every file whose chunk count changed more than the ratio; exit 1 if
there is any.

Examples:
  keda-indexer reindex verify
  keda-indexer reindex verify --to documents-v2-e5-small-v2`,
  )
  .action(
    action('reindex verify', async (options: { from?: string; to?: string; maxChunkRatio: number }) => {
      const { runReindexVerify } = await import('./commands/reindex.js');
      return runReindexVerify(
        settingsFor(globalOptions()),
        { ...(options.from === undefined ? {} : { from: options.from }), ...(options.to === undefined ? {} : { to: options.to }), maxChunkRatio: options.maxChunkRatio },
        process.stdout,
      );
    }),
  );

reindex
  .command('flip')
  .description('point the alias at the new index in one atomic step (verifies first); the old index is kept')
  .option('--to <index>', 'the index to point at (default: the newest version the alias does not point at)')
  .option('--rollback', 'point back at the previous version')
  .option('--replace-index', 'ELASTICSEARCH_INDEX is a concrete index (made before aliases): delete it and put the alias in its place, atomically')
  .option('--force', 'flip without verifying')
  .option('--max-chunk-ratio <n>', 'as for verify', parse.chunkRatio, 4)
  .addHelpText(
    'after',
    `
Search follows at once; workers still writing to the old index stop within ~10 s.

Examples:
  keda-indexer reindex flip
  keda-indexer reindex flip --rollback
  keda-indexer reindex flip --replace-index   # first change of an index made before aliases`,
  )
  .action(
    action('reindex flip', async (options: { to?: string; rollback?: boolean; replaceIndex?: boolean; force?: boolean; maxChunkRatio: number }) => {
      const { runReindexFlip } = await import('./commands/reindex.js');
      return runReindexFlip(
        settingsFor(globalOptions()),
        {
          ...(options.to === undefined ? {} : { to: options.to }),
          rollback: options.rollback === true,
          replaceIndex: options.replaceIndex === true,
          force: options.force === true,
          maxChunkRatio: options.maxChunkRatio,
        },
        process.stdout,
      );
    }),
  );

reindex
  .command('delete')
  .description('delete an old version of the index and its file records (never the one the alias points at)')
  .option('--index <index>', 'the version to delete (default: the newest one older than the live one)')
  .addHelpText('after', '\nExamples:\n  keda-indexer reindex delete\n  keda-indexer reindex delete --index documents-v1-all-minilm-l6-v2')
  .action(
    action('reindex delete', async (options: { index?: string }) => {
      const { runReindexDelete } = await import('./commands/reindex.js');
      return runReindexDelete(settingsFor(globalOptions()), options.index === undefined ? {} : { index: options.index }, process.stdout);
    }),
  );

await program.parseAsync(process.argv);
