// The OCR engine's language data, pinned. Tesseract's trained models come from npm
// (@tesseract.js-data/<lang>), installed with the worker: nothing is fetched at run time (pods have
// no internet). Each file's SHA-256 is pinned here, as scripts/models/*.manifest pins the
// embedding model's, and checked when a converter thread first loads it: a package that changed
// under the same version, or a file damaged on disk, fails loudly instead of reading worse.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface LanguageDataFile {
  /** Tesseract's language code. */
  readonly code: string;
  /** The npm package that carries it. */
  readonly packageName: string;
  /**
   * Folder inside the package: "best_int" is the LSTM model, integer-quantised (what tesseract.js
   * itself picks for LSTM-only recognition; smaller and faster than "best", as accurate here).
   */
  readonly folder: string;
  readonly sha256: string;
  readonly bytes: number;
}

export const LANGUAGE_DATA: readonly LanguageDataFile[] = [
  {
    code: 'eng',
    packageName: '@tesseract.js-data/eng',
    folder: '4.0.0_best_int',
    sha256: '45b4cb346724ac1774f1c36f42f182b887bcdb28ebe63e6fff90ac41f3fcff91',
    bytes: 2952873,
  },
];

/** Language codes that have pinned data. */
export const OCR_LANGUAGE_CODES: readonly string[] = LANGUAGE_DATA.map((data) => data.code);

const require = createRequire(import.meta.url);

/** The folder tesseract.js reads `<code>.traineddata.gz` from. */
export function languageFolder(data: LanguageDataFile): string {
  return path.join(path.dirname(require.resolve(`${data.packageName}/package.json`)), data.folder);
}

/**
 * Checks every language's file against its pin and returns the one folder tesseract.js reads them
 * all from (its `langPath`); throws naming the file, the pin and what was found.
 */
export async function verifiedLanguagePath(codes: readonly string[]): Promise<string> {
  const folders = await verifiedLanguageFolders(codes);
  const distinct = [...new Set(folders.values())];
  if (distinct.length === 1 && distinct[0] !== undefined) return distinct[0];
  // Each language lives in its own package; tesseract.js takes one folder: links to the verified files.
  const joined = await mkdtemp(path.join(os.tmpdir(), 'keda-indexer-ocr-'));
  for (const [code, folder] of folders) await symlink(path.join(folder, `${code}.traineddata.gz`), path.join(joined, `${code}.traineddata.gz`));
  return joined;
}

async function verifiedLanguageFolders(codes: readonly string[]): Promise<Map<string, string>> {
  const folders = new Map<string, string>();
  for (const code of codes) {
    const data = LANGUAGE_DATA.find((candidate) => candidate.code === code);
    if (data === undefined) throw new Error(`no OCR language data is pinned for "${code}" (pinned: ${OCR_LANGUAGE_CODES.join(', ')})`);
    const folder = languageFolder(data);
    const file = path.join(folder, `${code}.traineddata.gz`);
    const bytes = await readFile(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== data.bytes || sha256 !== data.sha256) {
      throw new Error(`OCR language data ${file} is not the pinned file: expected sha256 ${data.sha256} (${data.bytes} bytes), found ${sha256} (${bytes.length} bytes); reinstall ${data.packageName}`);
    }
    folders.set(code, folder);
  }
  return folders;
}
