// Per-file records: one small document per file, in an index next to the chunks, that orders the
// writers of a file. A writer claims the file before it reads it: the claim raises the record's
// generation with a conditional write (if_seq_no / if_primary_term), so two claims never get the
// same generation and a later claim always gets a higher one. When its chunks are written, the
// writer completes the claim with a second conditional write; if that fails, a later claim came
// in meanwhile and its writer's chunks are the ones that stay. Why this is enough for the index
// to end up equal to the bucket, whatever the interleaving, is in docs/operations.md.
import { errors, type Client } from '@elastic/elasticsearch';
import { TransientError, type DeadLetterReason } from '../../failure.js';
import { classifyElasticsearchError, errorTypeOf } from './errors.js';
import { sourceIdOf, type ChunkProvenance } from '../document.js';

/** The records of chunk index `index`: `<index>-files`. */
export function recordsIndexOf(index: string): string {
  return `${index}-files`;
}

/**
 * A claim on a file's record: the generation it took (the chunks' external version) and the
 * record's sequence number and primary term, so that only this claim can complete it. The
 * Elasticsearch adapter's own; outside it a claim is the port's opaque RecordClaim (store/port.ts).
 */
export interface RecordClaim {
  readonly sourceId: string;
  readonly filePath: string;
  /** Grows with every claim of the file; the chunks' external version. */
  readonly generation: number;
  readonly seqNo: number;
  readonly primaryTerm: number;
}

export type FileState = 'claimed' | 'indexed' | 'absent' | 'dead_lettered';

/** The record of one file, `_id` its source_id. */
export interface FileRecord {
  readonly file_path: string;
  readonly generation: number;
  /**
   * claimed: a writer is at work (or died; its message comes back); indexed or absent: done;
   * dead_lettered: its message went to the dead-letter queue with `reason` (docs/operations.md).
   */
  readonly state: FileState;
  /** Why the file was dead-lettered (a DeadLetterReason); only with state dead_lettered. */
  readonly reason?: string;
  readonly chunks?: number;
  /** Of the object the chunks were made from (indexed), or seen missing (absent). */
  readonly etag?: string;
  readonly version_id?: string;
  readonly last_modified?: string;
  /** Fingerprint of the model and split settings the chunks were made with (indexed). */
  readonly index_settings?: string;
  /** Fingerprint of the file's metadata and access fields the chunks carry (indexed). */
  readonly metadata?: string;
  readonly updated_at: string;
}

export const RECORDS_MAPPING = {
  dynamic: false as const,
  properties: {
    file_path: { type: 'keyword' as const },
    generation: { type: 'long' as const },
    state: { type: 'keyword' as const },
    reason: { type: 'keyword' as const },
    chunks: { type: 'integer' as const },
    etag: { type: 'keyword' as const },
    version_id: { type: 'keyword' as const },
    last_modified: { type: 'date' as const },
    index_settings: { type: 'keyword' as const },
    metadata: { type: 'keyword' as const },
    updated_at: { type: 'date' as const },
  },
};

/** Claims of one file racing each other; each retry re-reads the record, so few are needed. */
const MAX_CLAIM_ATTEMPTS = 20;

const isStatus = (error: unknown, status: number) => error instanceof errors.ResponseError && error.statusCode === status;

/** The same classification as the chunks' writes (elasticsearch-errors.ts): one table for both. */
const unavailable = (action: string, error: unknown): Error => classifyElasticsearchError(error, action);

/**
 * The next generation: above the last one, and at least the current time in milliseconds. The
 * clock only matters when there is no record (first claim, or records lost): chunks written before
 * records existed carry internal versions (counts of writes, far below 10^12), and a generation
 * taken from the clock is above them, and above those of a lost record's claims.
 */
export function nextGeneration(previous: number | undefined, now: number): number {
  return Math.max((previous ?? 0) + 1, Math.floor(now));
}

export class FileRecords {
  constructor(
    private readonly client: Client,
    readonly index: string,
  ) {}

  async ensureIndex(): Promise<void> {
    try {
      if (await this.client.indices.exists({ index: this.index })) {
        // Fields added since the index was made (reason) join its mapping; adding never changes old records.
        await this.client.indices.putMapping({ index: this.index, properties: RECORDS_MAPPING.properties });
        return;
      }
      await this.client.indices.create({ index: this.index, mappings: RECORDS_MAPPING, settings: { number_of_shards: 1 } });
    } catch (error) {
      if (errorTypeOf(error) === 'resource_already_exists_exception') return;
      throw unavailable(`ensure index ${this.index}`, error);
    }
  }

  /** Takes the file's next generation. Throws TransientError when Elasticsearch is unavailable. */
  async claim(filePath: string): Promise<RecordClaim> {
    const sourceId = sourceIdOf(filePath);
    for (let attempt = 1; attempt <= MAX_CLAIM_ATTEMPTS; attempt++) {
      let current;
      try {
        current = await this.client.get<FileRecord>({ index: this.index, id: sourceId, realtime: true }, { ignore: [404] });
      } catch (error) {
        throw unavailable('read file record', error);
      }
      const previous = current.found ? current._source : undefined;
      const record: FileRecord = {
        file_path: filePath,
        generation: nextGeneration(previous?.generation, Date.now()),
        state: 'claimed',
        updated_at: new Date().toISOString(),
      };
      try {
        const written = await this.client.index({
          index: this.index,
          id: sourceId,
          document: record,
          ...(current.found && current._seq_no !== undefined && current._primary_term !== undefined
            ? { if_seq_no: current._seq_no, if_primary_term: current._primary_term }
            : { op_type: 'create' as const }),
          refresh: false,
        });
        return { sourceId, filePath, generation: record.generation, seqNo: written._seq_no ?? 0, primaryTerm: written._primary_term ?? 0 };
      } catch (error) {
        if (!isStatus(error, 409)) throw unavailable('claim file record', error);
        // Another worker claimed the same file between the read and the write: read again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
    throw new TransientError('claim_contention', `${filePath}: ${MAX_CLAIM_ATTEMPTS} claims of this file in a row lost to other workers`);
  }

  /** Records what `claim` wrote; false when a later claim came first (nothing is recorded then). */
  async complete(
    claim: RecordClaim,
    outcome: { state: Exclude<FileState, 'claimed'>; chunks?: number; object: ChunkProvenance; reason?: DeadLetterReason },
  ): Promise<boolean> {
    const { object } = outcome;
    const record: FileRecord = {
      file_path: claim.filePath,
      generation: claim.generation,
      state: outcome.state,
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(outcome.chunks === undefined ? {} : { chunks: outcome.chunks }),
      ...(object.etag === undefined ? {} : { etag: object.etag }),
      ...(object.versionId === undefined ? {} : { version_id: object.versionId }),
      ...(object.lastModified === undefined ? {} : { last_modified: object.lastModified }),
      ...(object.indexSettings === undefined ? {} : { index_settings: object.indexSettings }),
      ...(object.metadata === undefined ? {} : { metadata: object.metadata }),
      updated_at: new Date().toISOString(),
    };
    try {
      await this.client.index({
        index: this.index,
        id: claim.sourceId,
        document: record,
        if_seq_no: claim.seqNo,
        if_primary_term: claim.primaryTerm,
        refresh: false,
      });
      return true;
    } catch (error) {
      if (!isStatus(error, 409)) throw unavailable('complete file record', error);
    }
    // The client retries a request whose answer was lost; if that request landed, the retry
    // conflicts with this very completion. Only a higher generation means a later claim.
    let current;
    try {
      current = await this.read(claim.filePath);
    } catch (error) {
      throw unavailable('read file record', error);
    }
    return current?.generation === claim.generation && current.state === outcome.state;
  }

  /** The record of a file, read in real time; undefined when the file was never claimed. */
  async read(filePath: string): Promise<FileRecord | undefined> {
    const found = await this.client.get<FileRecord>({ index: this.index, id: sourceIdOf(filePath), realtime: true }, { ignore: [404] });
    return found.found ? found._source : undefined;
  }
}
