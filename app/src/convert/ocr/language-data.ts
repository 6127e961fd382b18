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
  // The languages of most business buckets in Europe and the Americas, about 1 to 3 MB each. More
  // are one npm package (@tesseract.js-data/<code>) and one line here away.
  { code: 'deu', packageName: '@tesseract.js-data/deu', folder: '4.0.0_best_int', sha256: '306c4280d0cbed46fbff727486bd43b92730181bae80f56941a091f363bdf28b', bytes: 1_333_102 },
  { code: 'fra', packageName: '@tesseract.js-data/fra', folder: '4.0.0_best_int', sha256: 'd611139672b3752c7097e671e4a1d9209dfd37f2aeb081ef6487fba3351e9255', bytes: 707_406 },
  { code: 'spa', packageName: '@tesseract.js-data/spa', folder: '4.0.0_best_int', sha256: '40be52f97b5d4eb7460073dc1f94cd546b27150333c0bf854ed7e7132db6bceb', bytes: 2_100_190 },
  { code: 'ita', packageName: '@tesseract.js-data/ita', folder: '4.0.0_best_int', sha256: 'f702fcfad297ce028ede3626d1467b67939f23ff23595f9badd54681cf25a4d3', bytes: 1_660_998 },
  { code: 'por', packageName: '@tesseract.js-data/por', folder: '4.0.0_best_int', sha256: 'dacebc1386ddaaf8389f81094236cca0d690897cde693d48cbdaa881c86e2b4c', bytes: 1_392_239 },
  { code: 'nld', packageName: '@tesseract.js-data/nld', folder: '4.0.0_best_int', sha256: 'a2d904b6ddc4feb0d31ecfcd7361a554102e7aa2e278c54f4fc029e0d0815571', bytes: 3_005_696 },
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
