// Commander argParsers for the CLI's flags, made from the settings' value formats (config/formats.ts):
// one parser and one phrase per kind of value, so `--k abc` is refused like `HTTP_PORT=abc`, as a
// usage error (exit 2) naming the flag, the value and what is expected.
import { InvalidArgumentError } from 'commander';
import { parseTime } from '../backfill/filter.js';
import { FilterSyntaxError, parseFilter, readerOf } from '../metadata/search-flags.js';
import type { Reader, SearchFilter } from '../store/filters.js';
import { ExitCode, UserError } from './common.js';
import { byteSize, integer, numberAtLeast, numberAbove, type ValueFormat } from '../config/formats.js';

export function flag<T>(format: Pick<ValueFormat<T>, 'expect' | 'parse'>): (value: string) => T {
  return (value: string) => {
    const parsed = format.parse(value);
    // Commander prints "option '--k <n>' argument 'abc' is invalid." before this.
    if (parsed === undefined) throw new InvalidArgumentError(`It must be ${format.expect}.`);
    return parsed;
  };
}

/** search --k: Elasticsearch's kNN takes at most 10000 candidates; 1000 hits is plenty to print. */
export const hitCount = flag(integer(1, 1000));
/** The vector dimensions Elasticsearch's dense_vector accepts. */
export const dims = flag(integer(1, 4096));
/** SQS's range for a redrive policy's maxReceiveCount. */
export const receiveCount = flag(integer(1, 1000));
/** dlq list --max: messages to read. */
export const readLimit = flag(integer(1));
export const awsAccount = flag({ expect: 'a 12-digit AWS account id', parse: (raw: unknown) => (typeof raw === 'string' && /^\d{12}$/.test(raw) ? raw : undefined) });
export const chunkRatio = flag(numberAtLeast(1));
export const rate = flag(numberAbove(0));
export const size = flag(byteSize);
export const time = flag({ expect: 'a date or a time: 2024-05-01 or 2024-05-01T12:00:00Z', parse: (raw: unknown) => (typeof raw === 'string' ? parseTime(raw) : undefined) });

/** search --filter, repeatable: each occurrence adds one filter (metadata/search-flags.ts). */
export function searchFilter(value: string, previous: SearchFilter[]): SearchFilter[] {
  try {
    return [...previous, parseFilter(value)];
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** search --as / --all, checked together: a usage error when both are given. */
export function reader(options: { readonly as?: string; readonly all?: boolean }): Reader | undefined {
  try {
    return readerOf(options);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw new UserError(error.message, ExitCode.usage);
    throw error;
  }
}
