// Every setting of the worker and CLI, in one place: name, environment variable, value format
// (formats.ts: how it is parsed and what a bad value's message says is expected), default and
// meaning. The README's configuration reference is generated from this schema
// (`npm run docs:config`; a unit test keeps them equal), so this is the single source of truth.
import type { Schema } from 'convict';
import { OCR_LANGUAGE_CODES } from '../convert/ocr/language-data.js';
import { EMBEDDING_DEVICES, EMBEDDING_DTYPES, type EmbeddingDevice, type EmbeddingDtype } from '../embed/choices.js';
import { awsRegion, boolean, bucketList, bucketName, byteSize, httpUrl, indexName, integer, languageList, metadataFieldList, metadataKey, modelList, modelRef, nonEmptyText, oneOf, text } from './formats.js';
import type { DeclaredType } from '../metadata/values.js';

/** SQS's longest visibility timeout, in seconds: the longest lease and retry delay there can be. */
const SQS_MAX_VISIBILITY = 43_200;

export interface Settings {
  aws: { region: string; endpoint: string; s3ForcePathStyle: boolean };
  sqs: {
    queueUrl: string;
    deadLetterQueueUrl: string;
    waitTimeSeconds: number;
    maxMessages: number;
    visibilityTimeoutSeconds: number;
    retryBaseSeconds: number;
    retryMaxSeconds: number;
  };
  s3: { bucket: string; prefix: string; allowedBuckets: string[] };
  metadata: {
    readObject: boolean;
    readTags: boolean;
    readSidecars: boolean;
    fields: Record<string, DeclaredType>;
    aclKey: string;
    aclDefault: 'private' | 'public';
  };
  worker: { concurrency: number; drainDeadlineSeconds: number };
  fetch: { maxBytes: number };
  convert: { maxPages: number; maxSeconds: number; maxInflatedBytes: number; maxInflateRatio: number; maxChars: number; maxChunks: number; maxHeapMb: number; maxMemoryMb: number; processes: number };
  ocr: { mode: 'auto' | 'off' | 'force'; languages: string; maxPages: number; maxSeconds: number; dpi: number };
  split: { by: 'word' | 'sentence' | 'passage'; length: number; overlap: number; maxTokens: number; withinPages: boolean };
  embedding: {
    model: string;
    device: EmbeddingDevice;
    dtype: EmbeddingDtype;
    cacheDir: string;
    threads: number;
    batchTokens: number;
    sliceChunks: number;
    passagePrefix: string;
    queryPrefix: string;
    searchAllowedModels: string[];
  };
  elasticsearch: {
    url: string;
    cloudId: string;
    index: string;
    apiKey: string;
    username: string;
    password: string;
    caCert: string;
    similarity: 'cosine' | 'dot_product' | 'l2_norm' | 'max_inner_product';
    indexOptions: 'hnsw' | 'int8_hnsw' | 'int4_hnsw' | 'bbq_hnsw' | 'flat' | 'int8_flat';
    bulkMaxBytes: number;
    requestTimeoutSeconds: number;
  };
  store: { kind: '' | 'elasticsearch' | 'local' };
  localStore: { path: string; checkpointFiles: number; checkpointSeconds: number };
  http: { port: number };
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' };
}

export const schema: Schema<Settings> = {
  aws: {
    region: {
      doc: 'AWS region. Empty: the AWS SDK default chain (profile, instance metadata).',
      format: awsRegion.name,
      default: '',
      env: 'AWS_REGION',
    },
    endpoint: {
      doc: 'Endpoint for every AWS service, for emulators (moto, LocalStack). Empty: AWS itself. The SDK also honours AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_S3.',
      format: httpUrl.name,
      default: '',
      env: 'AWS_ENDPOINT_URL',
    },
    s3ForcePathStyle: {
      doc: 'true or false. Address buckets as endpoint/bucket instead of bucket.endpoint. Emulators need it; it is switched on whenever AWS_ENDPOINT_URL is set.',
      format: boolean.name,
      default: false,
      env: 'S3_FORCE_PATH_STYLE',
    },
  },
  sqs: {
    queueUrl: {
      doc: 'URL of the queue the worker consumes and `upload` enqueues to.',
      format: httpUrl.name,
      default: '',
      env: 'SQS_QUEUE_URL',
    },
    deadLetterQueueUrl: {
      doc: "Where permanently failing messages go, with the reason. Empty: the queue's RedrivePolicy target.",
      format: httpUrl.name,
      default: '',
      env: 'SQS_DEAD_LETTER_QUEUE_URL',
    },
    waitTimeSeconds: {
      doc: 'Long-polling wait of each receive (0–20).',
      format: integer(0, 20).name,
      default: 20,
      env: 'SQS_WAIT_TIME_SECONDS',
    },
    maxMessages: {
      doc: 'Messages asked for per receive (1–10).',
      format: integer(1, 10).name,
      default: 10,
      env: 'SQS_MAX_MESSAGES',
    },
    visibilityTimeoutSeconds: {
      doc: 'Lease taken on each message (1–43200); extended by a heartbeat while its file is processed.',
      format: integer(1, SQS_MAX_VISIBILITY).name,
      default: 60,
      env: 'SQS_VISIBILITY_TIMEOUT_SECONDS',
    },
    retryBaseSeconds: {
      doc: 'First delay before a transiently failed message is retried; doubles with each receive.',
      format: integer(1, SQS_MAX_VISIBILITY).name,
      default: 5,
      env: 'SQS_RETRY_BASE_SECONDS',
    },
    retryMaxSeconds: {
      doc: 'Longest retry delay (SQS caps visibility at 43200).',
      format: integer(1, SQS_MAX_VISIBILITY).name,
      default: 900,
      env: 'SQS_RETRY_MAX_SECONDS',
    },
  },
  s3: {
    bucket: {
      doc: 'Bucket `upload` and `bootstrap` use (messages name their own bucket).',
      format: bucketName.name,
      default: '',
      env: 'S3_BUCKET',
    },
    prefix: {
      doc: 'Key prefix `upload` puts files under, and the notification filter `bootstrap` sets.',
      format: text.name,
      default: '',
      env: 'S3_PREFIX',
    },
    allowedBuckets: {
      doc: 'Buckets the worker may read, each optionally narrowed to a key prefix (docs,archive/2024/). A message naming any other object is dead-lettered (forbidden_bucket), unread. Empty: the whole of S3_BUCKET; with both empty the worker does not start.',
      format: bucketList.name,
      default: [],
      env: 'S3_ALLOWED_BUCKETS',
    },
  },
  metadata: {
    readObject: {
      doc: "true or false. Index the object's user metadata (x-amz-meta-*) as filterable fields. Free when a file is indexed (it comes with the download); one HeadObject when an unchanged file is checked for a metadata change.",
      format: boolean.name,
      default: true,
      env: 'S3_READ_METADATA',
    },
    readTags: {
      doc: "true or false. Index the object's tags (later wins over user metadata). One GetObjectTagging per file (IAM s3:GetObjectTagging); tag changes re-index metadata only when bootstrap's s3:ObjectTagging:* notification reaches the queue.",
      format: boolean.name,
      default: false,
      env: 'S3_READ_TAGS',
    },
    readSidecars: {
      doc: 'true or false. Index the sidecar `<key>.metadata.json` (Bedrock\'s {"metadataAttributes": {...}} or a plain object; later wins over tags). One GetObject per file. Sidecars are never indexed as documents; a bad one is skipped with a warning.',
      format: boolean.name,
      default: false,
      env: 'S3_READ_SIDECARS',
    },
    fields: {
      doc: 'Metadata fields whose type is fixed, name:type separated by commas (effective_date:date,year:number; types string, list, number, boolean, date). Other fields are typed by their first value. A value that does not fit fails the file, naming the field.',
      format: metadataFieldList.name,
      default: {},
      env: 'METADATA_FIELDS',
    },
    aclKey: {
      doc: 'Metadata key (or tag, or sidecar attribute) that lists the principals allowed to read a file, separated by commas or spaces (group:finance,user:ana; a tag value cannot hold commas: group:finance user:ana). Set: chunks carry acl_principals and acl_public, and `search` refuses without --as or --all. Empty: access control off.',
      format: metadataKey.name,
      default: '',
      env: 'ACL_METADATA_KEY',
    },
    aclDefault: {
      doc: 'private or public: who reads a file that has no ACL_METADATA_KEY. private: nobody but `search --all`. An empty list, or a sidecar that cannot be read, is always private.',
      format: oneOf('private', 'public').name,
      default: 'private',
      env: 'ACL_DEFAULT',
    },
  },
  worker: {
    concurrency: {
      doc: 'Files processed at once by one worker (download, convert and embed overlap).',
      format: integer(1).name,
      default: 4,
      env: 'WORKER_CONCURRENCY',
    },
    drainDeadlineSeconds: {
      doc: 'On SIGTERM, time to finish files in flight before releasing them to other workers. Keep terminationGracePeriodSeconds above it.',
      format: integer(1).name,
      default: 25,
      env: 'WORKER_DRAIN_DEADLINE_SECONDS',
    },
  },
  fetch: {
    maxBytes: {
      doc: 'Largest object the worker downloads, in bytes or with a unit (100MiB, 512KiB, 1GB); larger files are dead-lettered (too_large).',
      format: byteSize.name,
      default: 100 * 1024 * 1024,
      env: 'FETCH_MAX_BYTES',
    },
  },
  convert: {
    maxPages: {
      doc: 'Most pages of a PDF, or slides of a presentation (PPTX, ODP); longer ones are dead-lettered rather than indexed in part.',
      format: integer(1).name,
      default: 2000,
      env: 'CONVERT_MAX_PAGES',
    },
    maxSeconds: {
      doc: 'Conversion time budget per file, counted across the whole conversion: the converter thread is ended when it passes (timeout). A PDF whose OCR stopped at OCR_MAX_PAGES or OCR_MAX_SECONDS ends its text pass at three quarters of it instead, and is indexed as far as it got (a 10,000-page scan).',
      format: integer(1).name,
      default: 120,
      env: 'CONVERT_MAX_SECONDS',
    },
    maxInflatedBytes: {
      doc: 'Most bytes a ZIP-based file (DOCX, XLSX, PPTX, ODT, EPUB) may inflate to, counted as it inflates whatever its headers declare (decompression-bomb guard), in bytes or with a unit (256MiB).',
      format: byteSize.name,
      default: 256 * 1024 * 1024,
      env: 'CONVERT_MAX_INFLATED_BYTES',
    },
    maxInflateRatio: {
      doc: 'Most an entry over 1 MiB of a ZIP-based file may inflate to per compressed byte; office XML compresses 5 to 30 times, a bomb hundreds of times.',
      format: integer(1).name,
      default: 200,
      env: 'CONVERT_MAX_INFLATE_RATIO',
    },
    maxChars: {
      doc: 'Most characters of text one file may give; a file over it is dead-lettered (too_large), never cut.',
      format: integer(1).name,
      default: 10_000_000,
      env: 'CONVERT_MAX_CHARS',
    },
    maxChunks: {
      doc: 'Most chunks one file may be split into; a file over it is dead-lettered (too_large).',
      format: integer(1).name,
      default: 20_000,
      env: 'CONVERT_MAX_CHUNKS',
    },
    maxHeapMb: {
      doc: 'V8 heap of each converter process, in MB; a file whose conversion needs more is dead-lettered (too_large).',
      format: integer(16).name,
      default: 384,
      env: 'CONVERT_MAX_HEAP_MB',
    },
    maxMemoryMb: {
      doc: 'Resident memory of each converter process, in MB (heap, buffers and native allocations such as a PDF stream inflated outside the heap); the process is ended when it passes, and the file dead-lettered (too_large).',
      format: integer(64).name,
      default: 640,
      env: 'CONVERT_MAX_MEMORY_MB',
    },
    processes: {
      doc: 'Converter processes per worker (files convert outside the worker process, each under a heap limit, a memory limit and a deadline).',
      format: integer(1).name,
      default: 2,
      env: 'CONVERT_PROCESSES',
    },
  },
  ocr: {
    mode: {
      doc: 'auto: read by OCR the PDF pages that have no text layer, and images; off: never (images are dead-lettered as no_text, scanned PDFs too); force: every PDF page by OCR, its text layer ignored.',
      format: oneOf('auto', 'off', 'force').name,
      default: 'auto',
      env: 'OCR_MODE',
    },
    languages: {
      doc: `Languages OCR reads, as Tesseract codes joined by + (eng+deu); each needs its pinned language data (${OCR_LANGUAGE_CODES.join(', ')}).`,
      format: languageList(...OCR_LANGUAGE_CODES).name,
      default: 'eng',
      env: 'OCR_LANGUAGES',
    },
    maxPages: {
      doc: 'Most pages OCR reads per file; a file with more is indexed as far as OCR got, says so in its log line and counts in keda_indexer_ocr_stopped_total. A page costs about 0.5 to 0.8 s of one core (docs/benchmarks.md, "OCR"); the converter\'s memory does not grow with the pages read. OCR_MAX_SECONDS bounds the time too.',
      format: integer(1).name,
      default: 200,
      env: 'OCR_MAX_PAGES',
    },
    maxSeconds: {
      doc: 'OCR time budget per file, on top of CONVERT_MAX_SECONDS; past it the file is indexed as far as OCR got, says so and counts in keda_indexer_ocr_stopped_total.',
      format: integer(1).name,
      default: 300,
      env: 'OCR_MAX_SECONDS',
    },
    dpi: {
      doc: 'Resolution PDF pages are rendered at for OCR (docs/benchmarks.md, "OCR", for how it was chosen).',
      format: integer(72, 600).name,
      default: 200,
      env: 'OCR_DPI',
    },
  },
  split: {
    by: {
      doc: 'Unit chunks are built from: word, sentence or passage (blank-line separated).',
      format: oneOf('word', 'sentence', 'passage').name,
      default: 'word',
      env: 'SPLIT_BY',
    },
    length: {
      doc: 'Units per chunk. 150 words stay under all-MiniLM-L6-v2’s 256 tokens for ordinary prose.',
      format: integer(1).name,
      default: 150,
      env: 'SPLIT_LENGTH',
    },
    overlap: {
      doc: 'Units repeated between neighbouring chunks (less than SPLIT_LENGTH).',
      format: integer(0).name,
      default: 20,
      env: 'SPLIT_OVERLAP',
    },
    maxTokens: {
      doc: "Hard cap on tokens per chunk, measured with the model's tokenizer; longer chunks are cut, never truncated. all-MiniLM-L6-v2 was trained at 256.",
      format: integer(1).name,
      default: 256,
      env: 'SPLIT_MAX_TOKENS',
    },
    withinPages: {
      doc: 'true or false. PDF: split each page on its own, so a chunk never runs across a page boundary and its page_number is the page of everything in it (top-1 cited page right 3× as often in docs/benchmarks.md). false: chunks run across pages; page_number is the first page, page_end the last.',
      format: boolean.name,
      default: true,
      env: 'SPLIT_WITHIN_PAGES',
    },
  },
  embedding: {
    model: {
      doc: 'Hugging Face model id, or an absolute path to a local model folder (scripts/fetch-model).',
      format: modelRef.name,
      default: 'Xenova/all-MiniLM-L6-v2',
      env: 'EMBEDDING_MODEL',
    },
    device: {
      doc: 'cpu, cuda (an error at startup if CUDA cannot be used), or auto (cuda when usable, else cpu with a warning).',
      format: oneOf(...EMBEDDING_DEVICES).name,
      default: 'cpu',
      env: 'EMBEDDING_DEVICE',
    },
    dtype: {
      doc: 'Weights to load: fp32 (onnx/model.onnx), q8 (onnx/model_quantized.onnx), fp16.',
      format: oneOf(...EMBEDDING_DTYPES).name,
      default: 'fp32',
      env: 'EMBEDDING_DTYPE',
    },
    cacheDir: {
      doc: 'Where models downloaded from the hub are kept, and looked up first (the image sets /models; a model baked in there loads offline). Empty: a .cache folder inside the installed CLI (dist/.cache).',
      format: text.name,
      default: '',
      env: 'EMBEDDING_CACHE_DIR',
    },
    threads: {
      doc: "Threads onnxruntime uses for one model call. 0: one per core the process may run on (its CPU affinity, e.g. a cpuset), else onnxruntime's default of one per core of the machine — on Kubernetes without a cpuset that is the node's cores, not the pod's CPU limit, so set it to the pod's CPUs (the chart does).",
      format: integer(0).name,
      default: 0,
      env: 'EMBEDDING_THREADS',
    },
    batchTokens: {
      doc: 'Token budget of one model call (padded length × texts), a ceiling; chunks of several files share a batch. On CPU each call is planned by cost (padding against a per-call cost), so a larger budget changes throughput little while onnxruntime keeps memory sized for the largest batch (docs/benchmarks.md); on a GPU batches are filled up to it: raise it (e.g. 16384).',
      format: integer(1).name,
      default: 1024,
      env: 'EMBEDDING_BATCH_TOKENS',
    },
    sliceChunks: {
      doc: "Chunks of one file embedded and written together. A longer file goes through in slices of this many (the next embedded while one is written), so a worker's memory does not grow with the file; a file that fails halfway is removed whole, never left half old, half new (docs/operations.md).",
      format: integer(1).name,
      default: 256,
      env: 'EMBEDDING_SLICE_CHUNKS',
    },
    passagePrefix: {
      doc: 'Text put before every chunk before embedding, for models that want one (e5: "passage: ").',
      format: text.name,
      default: '',
      env: 'EMBEDDING_PASSAGE_PREFIX',
    },
    queryPrefix: {
      doc: 'Text put before search queries (e5: "query: ", bge: "Represent this sentence for searching relevant passages: ").',
      format: text.name,
      default: '',
      env: 'EMBEDDING_QUERY_PREFIX',
    },
    searchAllowedModels: {
      doc: "Models `search` may load besides EMBEDDING_MODEL (hub ids or absolute folders, comma-separated), for an index whose _meta records another model, e.g. the new one after `reindex flip`. search never loads what an index's _meta names unless it is EMBEDDING_MODEL or listed here.",
      format: modelList.name,
      default: [],
      env: 'SEARCH_ALLOWED_MODELS',
    },
  },
  store: {
    kind: {
      doc: 'Where chunks are written and searched: `elasticsearch` (ELASTICSEARCH_*; the worker needs it) or `local` (the embedded store in LOCAL_STORE_PATH, for the CLI). Empty: elasticsearch when ELASTICSEARCH_URL or ELASTICSEARCH_CLOUD_ID is set, else local.',
      format: oneOf('', 'elasticsearch', 'local').name,
      default: '',
      env: 'STORE',
    },
  },
  elasticsearch: {
    url: {
      doc: 'Elasticsearch URL. Empty (and no cloud id, STORE empty): the CLI uses the embedded local store.',
      format: httpUrl.name,
      default: '',
      env: 'ELASTICSEARCH_URL',
    },
    cloudId: {
      doc: 'Elastic Cloud id, instead of ELASTICSEARCH_URL.',
      format: text.name,
      default: '',
      env: 'ELASTICSEARCH_CLOUD_ID',
    },
    index: {
      doc: 'Alias the chunks are written through and searched through. Absent: created over the physical index <alias>-v1-<model>, whose mapping _meta records the model (a concrete index of this name, made before aliases, is used as it is). Each file also has a record in <physical index>-files that orders concurrent writers (docs/operations.md); credentials need write access to <alias>* and alias management (docs/operations.md, "Change the embedding model").',
      format: indexName.name,
      default: 'documents',
      env: 'ELASTICSEARCH_INDEX',
    },
    apiKey: {
      doc: 'API key (base64 "id:key" form).',
      format: text.name,
      default: '',
      env: 'ELASTICSEARCH_API_KEY',
      sensitive: true,
    },
    username: {
      doc: 'Basic-auth user, with ELASTICSEARCH_PASSWORD.',
      format: text.name,
      default: '',
      env: 'ELASTICSEARCH_USERNAME',
    },
    password: {
      doc: 'Basic-auth password.',
      format: text.name,
      default: '',
      env: 'ELASTICSEARCH_PASSWORD',
      sensitive: true,
    },
    caCert: {
      doc: 'Path to a PEM CA certificate to trust for HTTPS.',
      format: text.name,
      default: '',
      env: 'ELASTICSEARCH_CA_CERT',
    },
    similarity: {
      doc: 'dense_vector similarity. cosine suits normalised sentence embeddings.',
      format: oneOf('cosine', 'dot_product', 'l2_norm', 'max_inner_product').name,
      default: 'cosine',
      env: 'ELASTICSEARCH_SIMILARITY',
    },
    indexOptions: {
      doc: 'dense_vector index type: hnsw (exact floats, most memory), int8_hnsw (4× smaller, tiny recall loss), int4_hnsw, bbq_hnsw (32× smaller, needs rescoring), flat / int8_flat (brute force).',
      format: oneOf('hnsw', 'int8_hnsw', 'int4_hnsw', 'bbq_hnsw', 'flat', 'int8_flat').name,
      default: 'int8_hnsw',
      env: 'ELASTICSEARCH_INDEX_OPTIONS',
    },
    bulkMaxBytes: {
      doc: 'Largest bulk request body, in bytes or with a unit (5MiB); a file with more chunks is written in several requests.',
      format: byteSize.name,
      default: 5 * 1024 * 1024,
      env: 'ELASTICSEARCH_BULK_MAX_BYTES',
    },
    requestTimeoutSeconds: {
      doc: 'Timeout of one Elasticsearch request.',
      format: integer(1).name,
      default: 30,
      env: 'ELASTICSEARCH_REQUEST_TIMEOUT_SECONDS',
    },
  },
  localStore: {
    path: {
      doc: 'Folder of the embedded local store (STORE=local, or no Elasticsearch configured).',
      format: nonEmptyText.name,
      default: '.keda-indexer',
      env: 'LOCAL_STORE_PATH',
    },
    checkpointFiles: {
      doc: '`index` saves the local store after every this many files indexed (and at the end), so a run that crashes or is killed keeps what it saved.',
      format: integer(1).name,
      default: 100,
      env: 'LOCAL_STORE_CHECKPOINT_FILES',
    },
    checkpointSeconds: {
      doc: '`index` also saves the local store when a file finishes this many seconds after the last save. Each save rewrites the whole store: raise both for very large stores.',
      format: integer(1).name,
      default: 30,
      env: 'LOCAL_STORE_CHECKPOINT_SECONDS',
    },
  },
  http: {
    port: {
      doc: 'Port of /healthz, /readyz and /metrics (0 turns the server off).',
      format: integer(0, 65535).name,
      default: 8080,
      env: 'HTTP_PORT',
    },
  },
  log: {
    level: {
      doc: 'Log level of the JSON logs.',
      format: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent').name,
      default: 'info',
      env: 'LOG_LEVEL',
    },
  },
};
