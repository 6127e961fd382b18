// The benchmark corpus: English prose taken from documentation files that exist offline on every
// machine after `npm ci` (READMEs and docs inside node_modules, pinned by package-lock.json) and on
// Debian (the licence texts in /usr/share/common-licenses). bench/corpus/manifest.json names each
// source file with its SHA-256, so every run reads exactly the same text; a changed or missing
// source is an error, not a silently different corpus.
//
// Markdown is reduced to its prose: code blocks, tables, HTML, badges and link targets go; what
// is left are paragraphs of ordinary sentences, which is what users index.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ManifestEntry {
  /** Relative to the repository root, or absolute for system files. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Words of prose extracted (a check that the extractor did not change either). */
  readonly words: number;
}

export interface Manifest {
  readonly description: string;
  readonly extractor: string;
  readonly sources: ManifestEntry[];
}

export interface Document {
  /** Stable name derived from the source path. */
  readonly name: string;
  readonly source: string;
  readonly paragraphs: string[];
}

export const EXTRACTOR_VERSION = 'prose-v1';
const MIN_PARAGRAPH_WORDS = 8;
const MIN_DOCUMENT_WORDS = 120;

const WORD = /^[A-Za-z][A-Za-z'’-]*[A-Za-z]?[.,;:!?)"”]*$/;

/** Prose paragraphs of a Markdown (or plain text) file. */
export function extractProse(source: string): string[] {
  const lines = source.replace(/\r\n?/g, '\n').replace(/<!--[\s\S]*?-->/g, '').split('\n');
  const paragraphs: string[] = [];
  let current: string[] = [];
  let fence: string | undefined;
  const flush = () => {
    if (current.length > 0) paragraphs.push(current.join(' '));
    current = [];
  };
  for (const raw of lines) {
    const line = raw.trimEnd();
    const fenceMatch = /^\s*(```|~~~)/.exec(line);
    if (fence !== undefined) {
      if (fenceMatch?.[1] === fence) fence = undefined;
      continue;
    }
    if (fenceMatch) {
      flush();
      fence = fenceMatch[1];
      continue;
    }
    if (line.trim() === '' || /^\s*\|/.test(line) || /^ {4,}|^\t/.test(line) || /^\s*[-=*_]{3,}\s*$/.test(line)) {
      flush();
      continue;
    }
    if (/^\s*#{1,6}\s/.test(line) || /^\s*([-*+]|\d+[.)])\s/.test(line)) flush();
    const text = line
      .replace(/^\s*#{1,6}\s+/, '')
      .replace(/^\s*([-*+]|\d+[.)])\s+/, '')
      .replace(/^\s*>\s?/, '')
      .replace(/!\[[^\]]*\]\([^)]*\)/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]*)\]\[[^\]]*\]/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/`([^`]*)`/g, '$1')
      .replace(/(\*\*|__)(.*?)\1/g, '$2')
      .replace(/\s+/g, ' ')
      .trim();
    if (text !== '') current.push(text);
  }
  flush();
  return paragraphs.filter((paragraph) => {
    const words = paragraph.split(' ');
    if (words.length < MIN_PARAGRAPH_WORDS) return false;
    const plain = words.filter((word) => WORD.test(word)).length;
    return plain / words.length >= 0.8 && /[.!?:]["”)]?$/.test(paragraph);
  });
}

export const countWords = (paragraphs: readonly string[]) => paragraphs.reduce((n, p) => n + p.split(' ').length, 0);

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function walk(dir: string, out: string[], depth = 0): void {
  if (depth > 6) return;
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'test' && entry.name !== 'tests' && entry.name !== '.bin') walk(full, out, depth + 1);
    } else if (entry.isFile() && /\.md$/i.test(entry.name) && !/change|history|license|licence|security|contributing|code_of_conduct/i.test(entry.name)) {
      out.push(full);
    }
  }
}

const SYSTEM_TEXTS = ['Apache-2.0', 'GPL-3', 'LGPL-2.1', 'MPL-2.0', 'GFDL-1.3', 'Artistic'].map((name) => `/usr/share/common-licenses/${name}`);

/** Chooses the corpus sources on this machine (run once; the result is committed). */
export function buildManifest(root: string): Manifest {
  const candidates: string[] = [];
  walk(path.join(root, 'node_modules'), candidates);
  const relative = candidates.map((file) => path.relative(root, file)).sort();
  const sources: ManifestEntry[] = [];
  const seen = new Set<string>();
  for (const file of [...relative, ...SYSTEM_TEXTS]) {
    const full = path.isAbsolute(file) ? file : path.join(root, file);
    let bytes: Buffer;
    try {
      if (statSync(full).size > 400_000) continue;
      bytes = readFileSync(full);
    } catch {
      continue;
    }
    const digest = sha256(bytes);
    if (seen.has(digest)) continue; // the same README in two places
    seen.add(digest);
    const words = countWords(extractProse(bytes.toString('utf8')));
    if (words < MIN_DOCUMENT_WORDS) continue;
    sources.push({ path: file, sha256: digest, bytes: bytes.length, words });
  }
  return {
    description:
      'Sources of the benchmark corpus: documentation inside node_modules (pinned by package-lock.json) and Debian licence texts. ' +
      'Regenerate with `npm run bench -- --write-manifest` after a dependency change.',
    extractor: EXTRACTOR_VERSION,
    sources,
  };
}

/** Reads every source of the manifest, checking its digest; throws naming what changed. */
export function loadCorpus(root: string, manifest: Manifest): Document[] {
  if (manifest.extractor !== EXTRACTOR_VERSION) {
    throw new Error(`corpus manifest was made by extractor ${manifest.extractor}, this is ${EXTRACTOR_VERSION}: regenerate it (npm run bench -- --write-manifest)`);
  }
  const problems: string[] = [];
  const documents: Document[] = [];
  for (const entry of manifest.sources) {
    const full = path.isAbsolute(entry.path) ? entry.path : path.join(root, entry.path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(full);
    } catch {
      problems.push(`missing: ${entry.path}`);
      continue;
    }
    if (sha256(bytes) !== entry.sha256) {
      problems.push(`changed: ${entry.path}`);
      continue;
    }
    const paragraphs = extractProse(bytes.toString('utf8'));
    if (countWords(paragraphs) !== entry.words) problems.push(`extracted differently: ${entry.path}`);
    const name = entry.path
      .replace(/^node_modules\//, '')
      .replace(/^\/usr\/share\/common-licenses\//, 'license-')
      .replace(/[^A-Za-z0-9.-]+/g, '_')
      .replace(/\.md$/i, '');
    documents.push({ name, source: entry.path, paragraphs });
  }
  if (problems.length > 0) {
    throw new Error(
      `the benchmark corpus differs from bench/corpus/manifest.json (${problems.length} sources):\n  ${problems.slice(0, 20).join('\n  ')}\n` +
        'Run `npm ci` for the pinned dependencies, or regenerate the manifest (npm run bench -- --write-manifest) and say so with the results.',
    );
  }
  return documents;
}
