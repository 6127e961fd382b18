// The Markdown table and the SVG plot of a benchmark run, and the generated section of
// docs/benchmarks.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Results } from '../run.js';
import { fmt, pm, type Summary } from './stats.js';

const ok = (met: boolean | undefined) => (met === undefined ? '' : met ? '✅' : '❌');
const x = (s: Summary, digits = 2) => `${fmt(s.median, digits)}× (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

export function renderMarkdown(r: Results, svgName: string): string {
  const t = Object.fromEntries(r.targets.map((target) => [target.name, target]));
  const e = r.embed;
  const c = e.chunksPerSecond;
  const fp = r.footprint;
  const footprintCell = 'nodeModulesMb' in fp ? `${fp.nodeModulesMb} MB node_modules + ${fp.distMb} MB dist` : 'error' in fp ? `not measured: ${fp.error}` : fp.skipped;
  const allocator = Object.entries(r.e2e.imageEnv).map(([k, v]) => `${k}=${v}`).join(' ') || 'allocator settings (none)';
  const cpuIn = r.e2e.cpu.secondsInWindow;
  const cpuCell = (name: string) => (cpuIn[name] ? `${name} ${fmt(cpuIn[name].median, 1)}` : undefined);
  const lines = [
    `Run ${r.date.slice(0, 16).replace('T', ' ')} UTC with \`${r.command}\` in ${fmt(r.seconds, 0)} s on ${r.machine.cpus} × ${r.machine.cpuModel ?? 'CPU'} ` +
      `(${r.machine.memoryGb} GiB; load average ${r.machine.loadAverageStart[0]} at start, ${r.machine.loadAverageEnd[0]} at end), ` +
      `Node ${r.machine.node}, onnxruntime-node ${r.machine.onnxruntimeNode}, transformers.js ${r.machine.transformers}; ` +
      `Python ${r.machine.python.python}, onnxruntime ${r.machine.python.onnxruntime}, tokenizers ${r.machine.python.tokenizers}, pypdf ${r.machine.python.pypdf}. ` +
      `Medians over rounds with the range (min–max) in brackets; ratios are per round, contenders alternating.`,
    '',
    `Corpus: ${r.corpus.sources} documentation sources, ${r.corpus.words} words → ${r.corpus.chunks} chunks, ${r.corpus.tokens} tokens ` +
      `(tokens per chunk: ${Object.entries(r.corpus.tokensPerChunkHistogram).map(([k, v]) => `${k}: ${v}`).join(', ')}). ` +
      `Embedding race on a fixed stratified sample of ${e.sampleChunks} chunks (${e.sampleTokens} tokens), ${e.rounds} rounds; model all-MiniLM-L6-v2 ${r.model.file}, ` +
      `batch token budget ${e.batchTokens}; threads: Node ${e.threads.node}, Python ${e.threads.python}.`,
    '',
    '| # | figure | this project | peer / reference | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    `| 1 | embedding throughput, chunks/s | ${pm(c.stage!)} | Python peer ${pm(c.peer!)} | ${x(e.stageVsPeer)} | ≥ 1.1× | ${ok(t['embed stage vs Python peer']?.met)} |`,
    `| 1 | embedding throughput, tokens/s | ${pm(e.tokensPerSecond.stage!, 0)} | Python peer ${pm(e.tokensPerSecond.peer!, 0)} | | | |`,
    `| 1 | vector agreement with the peer (cosine, per chunk) | min ${fmt(e.agreement.minCosine, 5)}, mean ${fmt(e.agreement.meanCosine, 6)} | | ${e.agreement.below0999} chunks below 0.999 | ≥ 0.999 | ${ok(e.agreement.below0999 === 0)} |`,
    `| 2 | raw onnxruntime session (pre-tokenized, bucketed), chunks/s | ${pm(c.stage!)} | raw session ${pm(c.raw!)} | ${x(e.stageVsRaw)} | ≥ 0.9× | ${ok(t['embed stage vs raw session']?.met)} |`,
    `| 3 | end to end (moto SQS+S3 → worker → Elasticsearch), files/s | ${pm(r.e2e.filesPerSecond, 2)} | | | | |`,
    `| 3 | end to end, chunks/s; pipeline efficiency | ${pm(r.e2e.chunksPerSecond)} | embed only, same chunks ${pm(r.e2e.embedOnlyChunksPerSecond)} | ${x(r.e2e.efficiency)} | ≥ 0.85 | ${ok(t['pipeline efficiency']?.met)} |`,
    isolatedRow(r, t['isolated pipeline efficiency']?.met),
    ...isolatedImageNodeRows(r, t["isolated pipeline efficiency, image's Node"]?.met, t["steady RSS, isolated, image's Node (MB)"]?.met),
    `| 4 | cold start: process start → /readyz 200 | ${pm(r.coldStart.readySeconds, 2)} s | | | ≤ 1.0 s | ${ok(t['cold start to ready (s)']?.met)} |`,
    `| 4 | cold start: process start → first file indexed | ${pm(r.coldStart.firstFileSeconds, 2)} s | | | | |`,
    busyColdRow(r),
    ...imageNodeColdRows(r),
    ...(r.coldStart.baseline.measured
      ? [
          `| 4 | cold start against ${r.coldStart.baseline.rev} (rounds alternating): → /readyz; → first file | ${pm(r.coldStart.readySeconds, 2)} s; ${pm(r.coldStart.firstFileSeconds, 2)} s | ` +
            `${r.coldStart.baseline.rev}: ${pm(r.coldStart.baseline.readySeconds, 2)} s; ${pm(r.coldStart.baseline.firstFileSeconds, 2)} s | ${x(r.coldStart.baseline.readyVsBaseline)}; ${x(r.coldStart.baseline.firstFileVsBaseline)} | | |`,
        ]
      : []),
    `| 5 | worker RSS during (3): steady / peak, with the image's ${allocator} | ${pm(r.e2e.rssMb.steady, 0)} MB / ${fmt(r.e2e.rssMb.peak.median, 0)} MB | glibc's default: ${pm(r.e2e.glibcDefault.rssMb.steady, 0)} MB / ${fmt(r.e2e.glibcDefault.rssMb.peak.median, 0)} MB | throughput ${x(r.e2e.glibcDefault.imageVsDefaultThroughput)} of the default's | steady ≤ 400 MB | ${ok(t['steady RSS (MB)']?.met)} |`,
    `| 6 | pruned production footprint | ${footprintCell} | | | ≤ 250 MB | ${ok(t['pruned footprint (MB)']?.met)} |`,
    `| 7 | PDF text extraction, pages/s (${r.pdf.files} PDFs, ${r.pdf.pages} pages) | pdfjs ${pm(r.pdf.pagesPerSecond.node, 0)} | pypdf ${pm(r.pdf.pagesPerSecond.pypdf, 0)} | ${x(r.pdf.nodeVsPypdf)} | | |`,
    `| – | GPU (EMBEDDING_DEVICE=cuda) | ${r.gpu.note} | | | | |`,
    '',
    '**Levers** (same rounds as figure 1, ratio to the embed stage as it is):',
    '',
    '| lever | chunks/s | vs embed stage | note |',
    '|---|---|---|---|',
    `| pooling + normalisation by transformers.js's pipeline (the stage before app/src/embed/pooling.ts) | ${pm(c.pipelinePooling!)} | ${x(e.levers.pipelinePooling)} | |`,
    `| quantized model (EMBEDDING_DTYPE=q8, onnx/model_quantized.onnx) | ${pm(c.q8!)} | ${x(e.levers.q8)} | ${x(e.levers.q8VsPeer)} the fp32 peer; drift vs fp32: cosine min ${fmt(e.q8Drift.minCosine, 4)}, median ${fmt(e.q8Drift.median, 4)} |`,
    `| one intra-op thread (intraOpNumThreads 1) | ${pm(c.oneThread!)} | ${x(e.levers.oneThread)} | the default uses every core |`,
    '',
    `**Batch size** (${r.sweep.sampleChunks}-chunk sample, ${r.sweep.rounds} rounds; the peer's batch of B texts is plotted at B × 256 tokens, its worst-case padded size):`,
    '',
    '| batch token budget | this project, chunks/s | peer batch | peer, chunks/s |',
    '|---|---|---|---|',
    ...r.sweep.project.map((p, i) => `| ${p.batchTokens} | ${pm(p.chunksPerSecond)} | ${r.sweep.peer[i]!.batch} | ${pm(r.sweep.peer[i]!.chunksPerSecond)} |`),
    '',
    `![embed throughput against batch token budget](${svgName})`,
    '',
    '**End to end, where the time went** (seconds summed over files, first round): ' +
      Object.entries(r.e2e.stageSecondsSummed ?? {})
        .map(([k, v]) => `${k} ${fmt(v, 1)}`)
        .join(', ') +
      `. ${r.e2e.files} files (${Object.entries(r.e2e.formats).map(([k, v]) => `${v} ${k}`).join(', ')}), ${r.e2e.chunks} chunks, WORKER_CONCURRENCY ${r.e2e.concurrency}.`,
    '',
    `**End to end, where the CPU went** (CPU seconds from the worker's ready line to its last file, medians over ${r.e2e.rounds} rounds; ` +
      `${r.e2e.cpu.cores} cores give ${fmt(cpuIn.available?.median ?? Number.NaN, 1)}): ` +
      [cpuCell('machine')?.replace('machine', 'machine busy'), cpuCell('worker'), cpuCell('elasticsearch'), cpuCell('moto')].filter(Boolean).join(', ') +
      ` — the cores were ${fmt(100 * r.e2e.cpu.machineBusyShare.median, 0)} % busy. Embedding the same chunks alone takes ${pm(r.e2e.embedOnlyCpuSeconds, 1)} CPU s, ` +
      `${fmt(100 * r.e2e.cpu.embeddingShareOfBusy.median, 0)} % (${fmt(100 * r.e2e.cpu.embeddingShareOfBusy.min, 0)}–${fmt(100 * r.e2e.cpu.embeddingShareOfBusy.max, 0)}) of the busy time: ` +
      `with the cores saturated, that share bounds pipeline efficiency (measured ${fmt(r.e2e.efficiency.median, 2)}).`,
    '',
    stageCpuParagraph(r),
    '',
    '**Cold start, where the time goes** (each in a fresh process, model files in the page cache; the index exists, as when KEDA scales up from zero): ' +
      `node boot ${fmt(r.coldStart.breakdown.nodeBootSeconds.median, 2)} s; createEmbedder fp32 ${fmt(r.coldStart.breakdown.createEmbedderFp32Seconds.median, 2)} s, ` +
      `q8 ${fmt(r.coldStart.breakdown.createEmbedderQ8Seconds.median, 2)} s; bare onnxruntime session fp32 ${fmt(r.coldStart.breakdown.ortSessionFp32Seconds.median, 2)} s, ` +
      `from a pre-optimized graph ${fmt(r.coldStart.breakdown.ortSessionPreoptimizedSeconds.median, 2)} s. Importing (fresh process each): ` +
      Object.entries(r.coldStart.breakdown.importSeconds)
        .map(([k, v]) => `${k} ${fmt(v.median, 2)} s`)
        .join(', ') +
      `. In the worker: model loaded at ${fmt(r.coldStart.modelLoadedSeconds.median, 2)} s after spawn, ` +
      `'worker ready' logs startupSeconds ${fmt(r.coldStart.startupSecondsLogged.median, 2)} (in-process, after imports).`,
    '',
  ];
  return lines.join('\n');
}

/** The busy-machine cold start, beside the baseline's started the same way when there is one. */
function busyColdRow(r: Results): string {
  const busy = r.coldStart.busy;
  const label = `| 4 | cold start on a busy machine (one busy loop per core beside it, ${busy.loops} loops): → /readyz; → first file | ${pm(busy.readySeconds, 2)} s; ${pm(busy.firstFileSeconds, 2)} s |`;
  const target = `≤ 0.8 s to /readyz (issue 14) | ${ok(busy.readySeconds.median <= 0.8)} |`;
  if (!busy.baseline.measured || !r.coldStart.baseline.measured) return `${label} | | ${target}`;
  return (
    `${label} ${r.coldStart.baseline.rev}, rounds alternating: ${pm(busy.baseline.readySeconds, 2)} s; ${pm(busy.baseline.firstFileSeconds, 2)} s | ` +
    `${x(busy.baseline.readyVsBaseline)}; ${x(busy.baseline.firstFileVsBaseline)} | ${target}`
  );
}

/** The same starts on the image's Node (scripts/fetch-node), where measured. */
function imageNodeColdRows(r: Results): string[] {
  const image = r.coldStart.imageNode;
  if (!image.measured) return [];
  const busyBaseline = image.busy.baseline.measured && r.coldStart.baseline.measured ? image.busy.baseline : undefined;
  return [
    `| 4 | cold start on the image's Node (${image.version}, Dockerfile node:22): → /readyz; → first file | ${pm(image.readySeconds, 2)} s; ${pm(image.firstFileSeconds, 2)} s | | | ≤ 1.0 s | ${ok(image.readySeconds.median <= 1.0)} |`,
    `| 4 | cold start on the image's Node, busy machine (as above): → /readyz; → first file | ${pm(image.busy.readySeconds, 2)} s; ${pm(image.busy.firstFileSeconds, 2)} s | ` +
      (busyBaseline ? `${r.coldStart.baseline.measured ? r.coldStart.baseline.rev : ''}, rounds alternating: ${pm(busyBaseline.readySeconds, 2)} s | ${x(busyBaseline.readyVsBaseline)} | ` : '| | ') +
      `≤ 0.8 s to /readyz (issue 14) | ${ok(image.busy.readySeconds.median <= 0.8)} |`,
    ...(image.busy.uncached.measured
      ? [
          `| 4 | the same busy start without a compile cache (NODE_DISABLE_COMPILE_CACHE=1), rounds alternating: → /readyz | ${pm(image.busy.uncached.readySeconds, 2)} s | | ` +
            `with the cache ${x(image.busy.uncached.readyVsUncached)} | | |`,
        ]
      : []),
  ];
}

function isolatedRow(r: Results, met: boolean | undefined): string {
  const i = r.e2e.isolated;
  if (!i.measured) return `| 3 | end to end, isolated (services and worker on their own cores) | ${i.skipped} | | | | |`;
  return (
    `| 3 | end to end, isolated: worker on core(s) ${i.cores.worker}, ${i.pinned.join(' + ')} on ${i.cores.services}; chunks/s, efficiency | ${pm(i.chunksPerSecond)} | ` +
    `embed only, pinned alike ${pm(i.embedOnlyChunksPerSecond)} | ${x(i.efficiency)}; CPU efficiency (reference CPU s ÷ worker CPU s) ${x(i.cpuEfficiency)} | ≥ 0.85 | ${ok(met)} |`
  );
}

/** The isolated pair (worker and reference) on the image's Node, and the worker's memory there. */
function isolatedImageNodeRows(r: Results, met: boolean | undefined, rssMet: boolean | undefined): string[] {
  const i = r.e2e.isolated;
  if (!i.measured || i.imageNode === undefined) return [];
  const n = i.imageNode;
  return [
    `| 3 | end to end, isolated as above, worker and reference on the image's Node (${n.version}); chunks/s, efficiency | ${pm(n.chunksPerSecond)} (${x(n.vsMachineNode)} the worker on Node ${r.machine.node}, same rounds) | ` +
      `embed only, pinned alike, same Node ${pm(n.embedOnlyChunksPerSecond)} | ${x(n.efficiency)}; CPU efficiency ${x(n.cpuEfficiency)} | ≥ 0.85 | ${ok(met)} |`,
    `| 5 | worker RSS in the isolated rounds, steady: this machine's Node; the image's | ${pm(i.steadyRssMb, 0)} MB; ${pm(n.steadyRssMb, 0)} MB | | | ≤ 400 MB | ${ok(rssMet)} |`,
  ];
}

/** The worker's CPU per stage (its keda_indexer_stage_cpu_seconds_total), shared and isolated. */
function stageCpuParagraph(r: Results): string {
  const list = (stages: Record<string, Summary>) =>
    Object.entries(stages)
      .map(([k, v]) => `${k} ${fmt(v.median, 2)}`)
      .join(', ');
  const i = r.e2e.isolated;
  const isolated =
    i.measured
      ? ` Isolated: ${list(i.stageCpuSeconds)}; the embed-only reference used ${pm(i.embedOnlyCpuSeconds, 2)} CPU s for the same chunks ` +
        `(the worker's embed stage ${x(i.embedCpuVsReference)} of it); texts per model call: worker ${fmt(i.textsPerBatch.worker.median, 1)}, reference ${fmt(i.textsPerBatch.reference, 1)}; ` +
        `padded tokens per token: worker ${fmt(i.padding.worker.median, 3)}, reference ${fmt(i.padding.reference, 3)}. ` +
        (i.imageNode ? `On the image's Node: ${list(i.imageNode.stageCpuSeconds)}. ` : '') +
        `Lever: the reference with EMBEDDING_THREADS set to the pinned cores runs ${x(i.pinnedThreadsVsDefault)} as fast as with the configured threads.` +
        (i.vsBaseline
          ? ` Against ${i.vsBaseline.rev}'s worker, pinned alike in the same rounds: ${pm(i.vsBaseline.chunksPerSecond)} chunks/s (efficiency ${x(i.vsBaseline.efficiency)} against the same reference); this worker delivers ${x(i.vsBaseline.throughput)} its throughput.`
          : '')
      : '';
  return (
    `**The worker's CPU by stage** (CPU seconds from 'worker ready' to the last file, medians; keda_indexer_stage_cpu_seconds_total, app/src/observe/stage-cpu.ts): ` +
    `shared cores: ${list(r.e2e.stageCpuSeconds)}.${isolated} Tokenizing the chunks a second time, which the embed stage no longer does ` +
    `(it reuses the split stage's token ids), takes ${pm(r.e2e.retokenizeCpuSeconds, 3)} CPU s.` +
    tokenCountingLine(r.e2e.tokenCounting)
  );
}

/** The split stage's token counting, by the tokenizer and word by word (app/src/embed/word-tokens.ts). */
function tokenCountingLine(c: Results['e2e']['tokenCounting']): string {
  return (
    ` Counting tokens as the split stage does (${c.texts} texts, ${c.words} words: every window, and the halves of those over the limit): ` +
    `the tokenizer on each whole text ${pm(c.wholeTextCpuSeconds, 3)} CPU s; word by word ${pm(c.wordsFreshCpuSeconds, 3)} with a new memo ` +
    `(${x(c.freshVsWholeText)}), ${pm(c.wordsWarmCpuSeconds, 3)} with one that has seen these words (${x(c.warmVsWholeText)}).`
  );
}

/** A small line chart: chunks/s against batch token budget (log2 axis), project and peer. */
export function renderSvg(r: Results): string {
  const width = 640;
  const height = 360;
  const m = { left: 60, right: 20, top: 30, bottom: 50 };
  const xs = r.sweep.project.map((p) => p.batchTokens);
  const series = [
    { name: 'keda-indexer embed stage (token budget)', color: '#1f77b4', points: r.sweep.project.map((p) => [p.batchTokens, p.chunksPerSecond.median] as const) },
    { name: 'Python peer (batch of B at B×256)', color: '#d62728', points: r.sweep.peer.map((p) => [p.batchTokens, p.chunksPerSecond.median] as const) },
  ];
  const yMax = Math.max(...series.flatMap((s) => s.points.map(([, y]) => y))) * 1.15;
  const lx = (v: number) => m.left + ((Math.log2(v) - Math.log2(xs[0]!)) / (Math.log2(xs.at(-1)!) - Math.log2(xs[0]!))) * (width - m.left - m.right);
  const ly = (v: number) => height - m.bottom - (v / yMax) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14">Embedding throughput vs batch size (all-MiniLM-L6-v2, ${r.machine.cpus} CPU cores)</text>`,
    `<line x1="${m.left}" y1="${height - m.bottom}" x2="${width - m.right}" y2="${height - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${height - m.bottom}" stroke="black"/>`,
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">batch token budget (padded tokens per model call)</text>`,
    `<text transform="translate(16 ${height / 2}) rotate(-90)" text-anchor="middle">chunks/s (median)</text>`,
  ];
  for (const v of xs) parts.push(`<text x="${lx(v)}" y="${height - m.bottom + 16}" text-anchor="middle">${v}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax / 4) * i;
    parts.push(`<line x1="${m.left}" y1="${ly(v)}" x2="${width - m.right}" y2="${ly(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${ly(v) + 4}" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  series.forEach((s, i) => {
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map(([px, py]) => `${lx(px).toFixed(1)},${ly(py).toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of s.points) parts.push(`<circle cx="${lx(px).toFixed(1)}" cy="${ly(py).toFixed(1)}" r="3" fill="${s.color}"/>`);
    parts.push(`<rect x="${m.left + 12}" y="${m.top + 6 + i * 18}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${m.left + 30}" y="${m.top + 11 + i * 18}">${s.name}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** A section of docs/benchmarks.md between markers, rewritten by the command named in them. */
export interface GeneratedSection {
  /** The markers' name: `<!-- name:start (generated by command) -->` … `<!-- name:end -->`. */
  readonly name: string;
  readonly command: string;
  /** Words before the link to the results file. */
  readonly lead: string;
}

const BENCH_SECTION: GeneratedSection = { name: 'bench', command: 'npm run bench', lead: 'Latest full run' };

/** Replaces a generated section of docs/benchmarks.md (by default `npm run bench`'s) with the latest run. */
export function updateDocs(file: string, markdown: string, base: string, generated: GeneratedSection = BENCH_SECTION): void {
  const START = `<!-- ${generated.name}:start (generated by ${generated.command}) -->`;
  const END = `<!-- ${generated.name}:end -->`;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${file} lacks the ${START} … ${END} markers`);
  const section = `${START}\n\n${generated.lead}: [bench/results/${base}.json](../bench/results/${base}.json).\n\n${markdown}\n${END}`;
  writeFileSync(file, text.slice(0, start) + section + text.slice(end + END.length));
}

/** Writes a run's figures to bench/results/<base>.json and its table to <base>.md. */
export function writeResults(root: string, base: string, results: unknown, markdown: string): void {
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${base}.json`), JSON.stringify(results, null, 1) + '\n');
  writeFileSync(path.join(dir, `${base}.md`), markdown);
}
