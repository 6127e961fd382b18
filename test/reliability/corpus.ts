// A deterministic mixed corpus for the reliability suite: every format, sizes from a few bytes to
// several megabytes, built from a seeded generator so every run uploads the same files.
import { makeDocx, makePdf } from '../fixtures/documents.js';

export interface CorpusFile {
  readonly key: string;
  readonly body: Uint8Array | string;
}

/** Mulberry32: a small seeded PRNG, so the corpus is the same on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'river mountain signal archive harbour lantern meadow copper engine orchard glacier protocol ' +
  'theorem violin compass garden ledger beacon canyon harvest circuit island journal kernel ' +
  'library market needle ocean pattern quarry rhythm season timber valley window yellow zenith ' +
  'analysis bridge carbon density element fabric gravity horizon impulse junction kinetic lattice ' +
  'measure nucleus orbit pressure quantum resonance spectrum turbine uniform velocity wavelength'
).split(' ');

export function prose(random: () => number, words: number): string {
  const sentences: string[] = [];
  let written = 0;
  while (written < words) {
    const length = 6 + Math.floor(random() * 14);
    const sentence = Array.from({ length }, () => WORDS[Math.floor(random() * WORDS.length)] ?? 'word');
    const first = sentence[0] ?? 'word';
    sentence[0] = first.charAt(0).toUpperCase() + first.slice(1);
    sentences.push(`${sentence.join(' ')}.`);
    written += length;
  }
  return sentences.join(' ');
}

/** Words in file number i: mostly short, some pages long, a few long documents. */
function wordsFor(random: () => number): number {
  const roll = random();
  if (roll < 0.55) return 1 + Math.floor(random() * 80);
  if (roll < 0.95) return 80 + Math.floor(random() * 500);
  return 600 + Math.floor(random() * 2500);
}

export interface CorpusOptions {
  readonly files: number;
  readonly seed: number;
  readonly prefix: string;
  /** Adds three multi-megabyte files: 2 MB of prose, 3 MB of HTML that is mostly script, 4 MB of PDF that is mostly drawing. */
  readonly bigFiles?: boolean;
}

/** A PDF of about `megabytes` whose size is drawing operations, with one paragraph of text. */
async function bulkyPdf(megabytes: number, text: string): Promise<Uint8Array> {
  const { default: PDFDocument } = await import('pdfkit');
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({ compress: false, autoFirstPage: true });
    const parts: Buffer[] = [];
    pdf.on('data', (part: Buffer) => parts.push(part));
    pdf.on('end', () => {
      resolve(new Uint8Array(Buffer.concat(parts)));
    });
    pdf.on('error', reject);
    pdf.font('Helvetica').fontSize(11).text(text);
    // Each rectangle is ~40 bytes of uncompressed content stream.
    for (let i = 0; i < (megabytes * 1024 * 1024) / 40; i++) pdf.rect((i * 7) % 500, 300 + ((i * 13) % 400), 2, 2);
    pdf.stroke();
    pdf.end();
  });
}

export async function buildCorpus(options: CorpusOptions): Promise<CorpusFile[]> {
  const random = seededRandom(options.seed);
  const files: CorpusFile[] = [];
  const kinds = ['txt', 'md', 'html', 'pdf', 'docx'] as const;
  for (let i = 0; i < options.files; i++) {
    const kind = kinds[i % kinds.length] ?? 'txt';
    const text = `Document ${options.prefix}-${i}. ${prose(random, wordsFor(random))}`;
    const key = `${options.prefix}/${kind}/file-${String(i).padStart(5, '0')}.${kind}`;
    switch (kind) {
      case 'txt':
        files.push({ key, body: text });
        break;
      case 'md':
        files.push({ key, body: `# Title ${i}\n\n${text.replace(/\. /g, '.\n\n')}` });
        break;
      case 'html':
        files.push({ key, body: `<!doctype html><html><head><title>t${i}</title><script>var s=${i};</script></head><body><p>${text}</p></body></html>` });
        break;
      case 'pdf': {
        const pages = text.match(/[\s\S]{1,2500}(?:\s|$)/g) ?? [text];
        files.push({ key, body: await makePdf(pages.slice(0, 40)) });
        break;
      }
      case 'docx':
        files.push({ key, body: await makeDocx([{ paragraphs: text.match(/[^.]+\./g)?.slice(0, 400) ?? [text] }]) });
        break;
    }
  }
  if (options.bigFiles === true) {
    // ~8 bytes per word with this vocabulary.
    files.push({ key: `${options.prefix}/big/prose-2mb.txt`, body: prose(random, (2 * 1024 * 1024) / 8) });
    const script = `var data = "${'x'.repeat(3 * 1024 * 1024)}";`;
    files.push({ key: `${options.prefix}/big/script-3mb.html`, body: `<html><head><script>${script}</script></head><body><p>${prose(random, 200)}</p></body></html>` });
    files.push({ key: `${options.prefix}/big/drawing-4mb.pdf`, body: await bulkyPdf(4, prose(random, 150)) });
  }
  return files;
}
