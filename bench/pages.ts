// `npm run bench:pages`: which page does a search cite? Multi-page PDFs with one fact per page and
// a question per fact are indexed into Elasticsearch twice, once per split mode (chunks across
// pages, SPLIT_WITHIN_PAGES=false, and within pages, true), with the real model; each question is
// then asked as `keda-indexer search` asks it (kNN alone, and kNN fused with BM25) and the top hits
// are scored. Writes bench/results/pages-<date>.json and prints the table of docs/benchmarks.md.
//
// Needs the dev stack's Elasticsearch (ELASTICSEARCH_URL) and EMBEDDING_MODEL, as `npm test` sets
// them: eval "$(scripts/dev-stack up)"; EMBEDDING_MODEL="$(scripts/fetch-model)" npm run bench:pages
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseByRank } from '../app/src/store/elasticsearch/search.js';
import { loadConfig } from '../app/src/config/config.js';
import { convert, DEFAULT_CONVERT_LIMITS } from '../app/src/convert/index.js';
import { createEmbedder } from '../app/src/embed/embedder.js';
import { silentLogger } from '../app/src/observe/logger.js';
import { chunkIdOf, type ChunkDocument } from '../app/src/store/document.js';
import { createElasticsearchClient, ElasticsearchSink } from '../app/src/store/elasticsearch/chunks.js';
import { recordsIndexOf } from '../app/src/store/elasticsearch/file-records.js';
import { splitText } from '../app/src/split/splitter.js';
import { makePdf } from '../test/fixtures/documents.js';
import { prose, seededRandom } from '../test/reliability/corpus.js';

const FILES = 8;
const PAGES_PER_FILE = 12;
const K = 10;

interface Fact {
  readonly file: string;
  readonly page: number;
  readonly sentence: string;
  readonly question: string;
}

/** Invented names, so the model knows nothing about them beyond the page. */
function nameMaker(random: () => number): () => string {
  const syllables = ['vel', 'dor', 'ska', 'min', 'tor', 'bal', 'ren', 'quo', 'lis', 'mar', 'zen', 'kol', 'pra', 'hus', 'ith', 'gan'];
  const used = new Set<string>();
  return () => {
    for (;;) {
      const parts = Array.from({ length: 2 + Math.floor(random() * 2) }, () => syllables[Math.floor(random() * syllables.length)]!);
      const name = parts.join('');
      if (used.has(name)) continue;
      used.add(name);
      return name.charAt(0).toUpperCase() + name.slice(1);
    }
  };
}

const TEMPLATES: readonly ((name: string, n: number) => readonly [string, string])[] = [
  (name, n) => [`The ${name} bridge was opened to traffic in the year ${1700 + n}.`, `When was the ${name} bridge opened?`],
  (name, n) => [`The composer ${name} wrote ${n % 40} symphonies for the harbour orchestra.`, `How many symphonies did ${name} compose?`],
  (name) => [`The village of ${name} is famous for a smoked cheese made from goat milk.`, `What food is ${name} known for?`],
  (name, n) => [`The ${name} lighthouse stands ${n % 90} metres tall on a granite cliff.`, `How tall is the ${name} lighthouse?`],
  (name) => [`Engineer ${name} designed the first steam pump for the silver mines.`, `Who designed the steam pump used in the silver mines?`],
  (name, n) => [`The river ${name} floods the valley every ${2 + (n % 9)} years in early spring.`, `How often does the ${name} river flood?`],
  (name) => [`The ${name} festival celebrates the autumn apple harvest with lantern parades.`, `Which harvest does the ${name} festival celebrate?`],
  (name, n) => [`The ship ${name} carried ${n % 500} tonnes of salt across the northern sea.`, `What cargo did the ship ${name} carry?`],
];

async function buildCorpus(): Promise<{ files: { key: string; bytes: Uint8Array }[]; facts: Fact[] }> {
  const random = seededRandom(2024);
  const name = nameMaker(random);
  const files: { key: string; bytes: Uint8Array }[] = [];
  const facts: Fact[] = [];
  for (let f = 0; f < FILES; f++) {
    const key = `report-${f}.pdf`;
    const pages: string[] = [];
    for (let p = 1; p <= PAGES_PER_FILE; p++) {
      const template = TEMPLATES[Math.floor(random() * TEMPLATES.length)]!;
      const [sentence, question] = template(name(), Math.floor(random() * 1000));
      // Short and long pages: most shorter than one chunk, so chunks that may cross pages do.
      const before = prose(random, 10 + Math.floor(random() * 90));
      const after = prose(random, 10 + Math.floor(random() * 90));
      pages.push(`${before} ${sentence} ${after}`);
      facts.push({ file: key, page: p, sentence, question });
    }
    files.push({ key, bytes: await makePdf(pages) });
  }
  return { files, facts };
}

interface Scores {
  citedPage: number;
  rangeHolds: number;
  factTop1: number;
  factTop5: number;
  reciprocalRank: number;
}

const root = fileURLToPath(new URL('../', import.meta.url));
const settings = loadConfig();
const embedder = await createEmbedder({ model: settings.embedding.model, device: 'cpu', dtype: 'fp32', logger: silentLogger() });
const client = createElasticsearchClient(settings.elasticsearch);
const { files, facts } = await buildCorpus();
const modes = [
  { name: 'across pages', withinPages: false },
  { name: 'within pages', withinPages: true },
] as const;
const results: Record<string, unknown>[] = [];

try {
  for (const mode of modes) {
    const index = `bench-pages-${mode.withinPages ? 'within' : 'across'}-${process.pid}`;
    const sink = new ElasticsearchSink(client, { ...settings.elasticsearch, index });
    await sink.ensureIndex(embedder.dimensions);
    let chunkCount = 0;
    let pagesPerChunk = 0;
    for (const file of files) {
      const filePath = `s3://bench/${file.key}`;
      const converted = await convert(file.bytes, file.key, DEFAULT_CONVERT_LIMITS);
      const chunks = splitText(converted, {
        ...settings.split,
        withinPages: mode.withinPages,
        maxTokens: Math.min(settings.split.maxTokens, embedder.modelMaxTokens),
        countTokens: (text) => embedder.countTokens(text),
      });
      const vectors = await embedder.embed(chunks.map((chunk) => chunk.content), 'passage');
      const claim = await sink.claim(filePath);
      const documents = chunks.map((chunk, i): ChunkDocument => {
        chunkCount++;
        pagesPerChunk += (chunk.pageEnd ?? 1) - (chunk.pageNumber ?? 1) + 1;
        return {
          id: chunkIdOf(claim.sourceId, chunk.splitId),
          content: chunk.content,
          embedding: Array.from(vectors[i]!),
          file_path: filePath,
          source_id: claim.sourceId,
          split_id: chunk.splitId,
          split_idx_start: chunk.splitIdxStart,
          ...(chunk.pageNumber === undefined ? {} : { page_number: chunk.pageNumber }),
          ...(chunk.pageEnd === undefined ? {} : { page_end: chunk.pageEnd }),
          content_type: converted.contentType,
          indexed_at: new Date().toISOString(),
        };
      });
      await sink.writeFile(claim, documents);
    }
    await sink.refresh();

    for (const retrieval of ['knn', 'hybrid'] as const) {
      const scores: Scores = { citedPage: 0, rangeHolds: 0, factTop1: 0, factTop5: 0, reciprocalRank: 0 };
      for (const fact of facts) {
        const [vector] = await embedder.embed([fact.question], 'query');
        const knn = await client.search<Omit<ChunkDocument, 'embedding'>>({
          index,
          knn: { field: 'embedding', query_vector: Array.from(vector!), k: K, num_candidates: 100 },
          size: K,
          _source: { excludes: ['embedding'] },
        });
        const knnHits = knn.hits.hits.map((hit) => ({ id: hit._id!, score: hit._score ?? 0, source: hit._source! }));
        let hits = knnHits.map((hit) => hit.source);
        if (retrieval === 'hybrid') {
          const bm25 = await client.search<Omit<ChunkDocument, 'embedding'>>({ index, query: { match: { content: fact.question } }, size: K, _source: { excludes: ['embedding'] } });
          const fused = fuseByRank([knnHits, bm25.hits.hits.map((hit) => ({ id: hit._id!, source: hit._source! }))], K);
          hits = fused.map((hit) => ({ ...hit, split_idx_start: 0, content_type: '', indexed_at: '', id: '' }));
        }
        const top = hits[0];
        const fileOf = (hit: { file_path: string }) => hit.file_path.endsWith(`/${fact.file}`);
        if (top && fileOf(top) && top.page_number === fact.page) scores.citedPage++;
        if (top && fileOf(top) && (top.page_number ?? 0) <= fact.page && fact.page <= (top.page_end ?? top.page_number ?? 0)) scores.rangeHolds++;
        const rank = hits.findIndex((hit) => fileOf(hit) && hit.content.replace(/\s+/g, ' ').includes(fact.sentence));
        if (rank === 0) scores.factTop1++;
        if (rank >= 0 && rank < 5) scores.factTop5++;
        if (rank >= 0) scores.reciprocalRank += 1 / (rank + 1);
      }
      const n = facts.length;
      results.push({
        mode: mode.name,
        retrieval,
        chunks: chunkCount,
        pagesPerChunk: pagesPerChunk / chunkCount,
        citedPageAccuracy: scores.citedPage / n,
        rangeHolds: scores.rangeHolds / n,
        factTop1: scores.factTop1 / n,
        factRecallAt5: scores.factTop5 / n,
        factMrrAt10: scores.reciprocalRank / n,
      });
    }
    await client.indices.delete({ index: [index, recordsIndexOf(index)], ignore_unavailable: true });
  }
} finally {
  await embedder.dispose();
  await client.close();
}

const pct = (value: unknown) => `${(Number(value) * 100).toFixed(0)} %`;
const table = [
  '| split mode | search | chunks | pages per chunk | top-1 cites the right page (page_number) | top-1 page range holds the page | top-1 chunk holds the fact | fact in top 5 | MRR@10 |',
  '|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${String(r.mode)} | ${String(r.retrieval)} | ${String(r.chunks)} | ${Number(r.pagesPerChunk).toFixed(2)} | ${pct(r.citedPageAccuracy)} | ${pct(r.rangeHolds)} | ${pct(r.factTop1)} | ${pct(r.factRecallAt5)} | ${Number(r.factMrrAt10).toFixed(2)} |`,
  ),
].join('\n');
const stamp = new Date().toISOString().slice(0, 10);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(root, `bench/results/pages-${stamp}.json`),
  `${JSON.stringify({ date: new Date().toISOString(), host: { cpus: os.cpus().length, load: os.loadavg() }, model: embedder.model, split: settings.split, files: FILES, pagesPerFile: PAGES_PER_FILE, questions: facts.length, results }, null, 1)}\n`,
);
process.stdout.write(`${facts.length} questions, one per page, over ${FILES} PDFs of ${PAGES_PER_FILE} pages\n\n${table}\n`);
