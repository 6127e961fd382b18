// `keda-indexer search "<query>"`: embeds the query with the model the store's vectors were made
// with (and its query prefix) and searches the store the settings chose: Elasticsearch fuses kNN
// with BM25 by reciprocal rank, the local store ranks by kNN.
import path from 'node:path';
import type { Settings } from '../config/config.js';
import { createLogger } from '../observe/logger.js';
import { buildRuntime } from '../runtime.js';
import type { SearchHit, StoreQuery } from '../store/port.js';
import { printable } from '../terminal-safe.js';
import type { Reader, SearchFilter } from '../store/filters.js';
import { ExitCode, UserError } from './common.js';
import { QueryModels } from './query-model.js';
import { cliLogLevel } from './runtime.js';

export type { SearchHit } from '../store/port.js';

export interface SearchOptions {
  readonly k: number;
  readonly json: boolean;
  /** Elasticsearch only: fuse kNN with BM25 (default) or use kNN alone. */
  readonly hybrid: boolean;
  /** `--filter`: every one must hold (metadata/search-flags.ts). */
  readonly filters?: readonly SearchFilter[];
  /** `--as` / `--all`; required where chunks carry access fields. */
  readonly reader?: Reader;
}

function snippet(text: string, width = 220): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return printable(flat.length > width ? `${flat.slice(0, width - 1)}…` : flat);
}

/** "page 3", or "pages 3–5" for a chunk that runs across pages; "" without pages. */
export function pageLabel(hit: Pick<SearchHit, 'page_number' | 'page_end'>): string {
  if (hit.page_number === undefined) return '';
  const last = hit.page_end ?? hit.page_number;
  return last > hit.page_number ? `pages ${hit.page_number}–${last}` : `page ${hit.page_number}`;
}

export function formatHits(hits: readonly SearchHit[], cwd = process.cwd()): string {
  if (hits.length === 0) return 'No results.\n';
  return hits
    .map((hit, i) => {
      const file = printable(hit.file_path.startsWith('s3://') ? hit.file_path : path.relative(cwd, hit.file_path) || hit.file_path);
      const label = pageLabel(hit);
      const page = label === '' ? '' : `, ${label}`;
      const section = hit.section === undefined ? '' : `, section "${printable(hit.section)}"`;
      return `${i + 1}. ${file}${page}${section}  (score ${hit.score.toFixed(3)})\n   ${snippet(hit.content)}\n`;
    })
    .join('\n');
}

/**
 * The search as the store's query: the filters, and for whom it reads. The store applies both
 * before ranking, and refuses a search without a reader where access is controlled.
 */
export function storeQueryOf(text: string, options: SearchOptions): StoreQuery {
  return { text, k: options.k, hybrid: options.hybrid, filters: options.filters ?? [], ...(options.reader === undefined ? {} : { reader: options.reader }) };
}

export async function runSearch(settings: Settings, query: string, options: SearchOptions, out: NodeJS.WritableStream): Promise<number> {
  if (query.trim() === '') throw new UserError('the query is empty', ExitCode.usage);
  if (!Number.isInteger(options.k) || options.k < 1 || options.k > 1000) throw new UserError(`--k must be an integer from 1 to 1000, got ${options.k}`, ExitCode.usage);
  const logger = createLogger({ level: cliLogLevel(settings) });
  const { store } = buildRuntime(settings);
  const models = new QueryModels(settings, logger);
  let hits: SearchHit[];
  try {
    const searcher = await store.openForReading();
    try {
      ({ hits } = await searcher.search(storeQueryOf(query, options), async (target) => {
        const embedder = await models.forIndex(target.name, target.model);
        const [vector] = await embedder.embed([query], 'query');
        if (vector === undefined) throw new Error('the model returned no vector for the query');
        return vector;
      }));
    } finally {
      await searcher.close();
    }
  } finally {
    await models.dispose();
    await store.close();
  }
  out.write(options.json ? `${JSON.stringify(hits, null, 2)}\n` : formatHits(hits));
  return ExitCode.ok;
}
