// RTF → text, by a small tokenizer and interpreter written here. The npm readers are no fit:
// rtf-parser (iarna) has had no release in years and recurses without a depth bound;
// rtf-stream-parser only de-encapsulates HTML or text that Outlook wrapped in RTF; rtf.js renders
// to a browser DOM. Text is all this needs, so it is read in one loop with an explicit stack of
// groups (no recursion), whose depth is capped: a file of a million `{` is refused, not a stack
// overflow or a huge stack.
//
// Kept: body text, headers, footers, footnotes and field results (a hyperlink's text); table
// cells as " | "-separated rows. Skipped: destinations marked `\*` that the reader does not know,
// and the ones that hold no text a reader sees (font and colour tables, style sheet, document
// info, pictures, objects' data, field instructions, shape properties).
// Characters: `\uN` (with its `\ucN` fallback skipped), `\'hh` bytes decoded in the document's
// code page (`\ansicpg`) or, where a font names a charset (`\fcharset`), in that font's.
import { decodeLabel } from '../text.js';
import { ConversionError, type Extracted } from '../types.js';

/** Deeper than Word or any editor nests groups. */
export const MAX_GROUP_DEPTH = 256;

/** Destinations whose content is not text a reader sees. */
const SKIPPED_DESTINATIONS = new Set([
  'fonttbl', 'colortbl', 'stylesheet', 'info', 'pict', 'objdata', 'objclass', 'fldinst', 'themedata', 'colorschememapping',
  'datastore', 'latentstyles', 'rsidtbl', 'xmlnstbl', 'mmathPr', 'generator', 'listtable', 'listoverridetable', 'revtbl',
  'filetbl', 'pgdsctbl', 'sp', 'shprslt', 'nonshppict', 'bkmkstart', 'bkmkend', 'template', 'xe', 'tc', 'private',
]);

/** Control words that stand for a character. */
const CHARACTER_WORDS: Readonly<Record<string, string>> = {
  par: '\n', line: '\n', sect: '\n', page: '\n', tab: '\t', cell: ' | ', nestcell: ' | ', row: '\n', nestrow: '\n',
  emdash: '\u2014', endash: '\u2013', lquote: '\u2018', rquote: '\u2019', ldblquote: '\u201c', rdblquote: '\u201d',
  bullet: '\u2022', emspace: ' ', enspace: ' ', qmspace: ' ',
};

/** Windows code pages by the font charsets RTF names (\fcharsetN). */
const CHARSET_CODE_PAGES: Readonly<Record<number, number>> = {
  77: 10000, 128: 932, 129: 949, 134: 936, 136: 950, 161: 1253, 162: 1254, 163: 1258, 177: 1255, 178: 1256, 186: 1257, 204: 1251, 222: 874, 238: 1250,
};

function codePageLabel(codePage: number): string {
  if (codePage >= 1250 && codePage <= 1258) return `windows-${codePage}`;
  const named: Record<number, string> = { 874: 'windows-874', 932: 'shift_jis', 936: 'gbk', 949: 'euc-kr', 950: 'big5', 866: 'ibm866', 10000: 'macintosh', 65001: 'utf-8' };
  return named[codePage] ?? 'windows-1252';
}

function decodeBytes(bytes: number[], codePage: number): string {
  const label = codePageLabel(codePage);
  const array = Uint8Array.from(bytes);
  return decodeLabel(label, array) ?? new TextDecoder(label).decode(array);
}

interface Group {
  /** Inside a destination whose text is dropped. */
  skip: boolean;
  /** Inside the font table: `\f` and `\fcharset` define fonts there. */
  fontTable: boolean;
  /** How many fallback characters follow a `\uN` (`\ucN`). */
  fallback: number;
  /** The current font's code page, when its charset names one. */
  codePage: number | undefined;
  /** Written when this group ends (a footnote's closing bracket); not inherited. */
  closeWith?: string | undefined;
}

const isLetter = (byte: number): boolean => (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a);
/** Bytes that are text as they stand: not markup, not a line end, not a code-page byte. */
const isPlain = (byte: number): boolean => byte >= 0x20 && byte < 0x80 && byte !== 0x5c && byte !== 0x7b && byte !== 0x7d;
const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
const hexValue = (byte: number | undefined): number => {
  if (byte === undefined) return NaN;
  const char = String.fromCharCode(byte);
  return /[0-9a-f]/i.test(char) ? parseInt(char, 16) : NaN;
};

/** Reads RTF bytes into text; throws ConversionError for what is no RTF or nests too deep. */
export function rtfToText(bytes: Uint8Array): string {
  if (Buffer.from(bytes.subarray(0, 5)).toString('latin1') !== '{\\rtf') throw new ConversionError('corrupt', 'RTF does not start with {\\rtf');
  const out: string[] = [];
  let pendingBytes: number[] = [];
  let documentCodePage = 1252;
  const fontCodePages = new Map<number, number>();
  let definingFont: number | undefined;
  const stack: Group[] = [];
  let group: Group = { skip: false, fontTable: false, fallback: 1, codePage: undefined };
  /** Fallback characters still to drop after a `\uN`. */
  let toSkip = 0;
  /** The previous token was `\*`: the group's destination may be skipped if unknown. */
  let starred = false;
  /** The group just opened: its first control word may name a destination. */
  let groupStart = false;

  const flushBytes = (): void => {
    if (pendingBytes.length === 0) return;
    if (!group.skip) out.push(decodeBytes(pendingBytes, group.codePage ?? documentCodePage));
    pendingBytes = [];
  };
  const emit = (text: string): void => {
    flushBytes();
    if (!group.skip) out.push(text);
  };

  let i = 0;
  const length = bytes.length;
  while (i < length) {
    const byte = bytes[i] ?? 0;
    if (byte === 0x7b /* { */) {
      flushBytes();
      if (stack.length >= MAX_GROUP_DEPTH) throw new ConversionError('corrupt', `RTF nests groups more than ${MAX_GROUP_DEPTH} deep`);
      stack.push(group);
      group = { ...group, closeWith: undefined };
      groupStart = true;
      starred = false;
      toSkip = 0;
      i++;
      continue;
    }
    if (byte === 0x7d /* } */) {
      flushBytes();
      const closing = group.closeWith;
      group = stack.pop() ?? group;
      if (closing !== undefined) emit(closing);
      groupStart = false;
      starred = false;
      toSkip = 0;
      i++;
      continue;
    }
    if (byte === 0x5c /* \ */) {
      const next = bytes[i + 1];
      if (next === undefined) break;
      if (isLetter(next)) {
        let end = i + 1;
        while (end < length && end - i <= 32 && isLetter(bytes[end] ?? 0)) end++;
        const word = Buffer.from(bytes.subarray(i + 1, end)).toString('latin1');
        let numberEnd = end;
        if (bytes[numberEnd] === 0x2d /* - */) numberEnd++;
        while (numberEnd < length && numberEnd - end <= 11 && isDigit(bytes[numberEnd] ?? 0)) numberEnd++;
        const parameterText = Buffer.from(bytes.subarray(end, numberEnd)).toString('latin1');
        const parameter = /\d/.test(parameterText) ? Number(parameterText) : undefined;
        i = bytes[numberEnd] === 0x20 ? numberEnd + 1 : numberEnd;
        const destination = groupStart;
        groupStart = false;
        if (word === 'bin') {
          // Binary data of the given length: never text, never RTF.
          flushBytes();
          i += Math.max(0, parameter ?? 0);
          continue;
        }
        if (destination && (SKIPPED_DESTINATIONS.has(word) || starred)) {
          flushBytes();
          if (word === 'fonttbl') {
            group.fontTable = true;
            group.skip = true;
          } else if (!(starred && KNOWN_TEXT_DESTINATIONS.has(word))) group.skip = true;
          starred = false;
          continue;
        }
        if (word === 'footnote' && destination && !group.skip) {
          emit(' (');
          group.closeWith = ')';
        }
        starred = false;
        if (group.fontTable) {
          if (word === 'f' && parameter !== undefined) definingFont = parameter;
          else if (word === 'fcharset' && parameter !== undefined && definingFont !== undefined) {
            const codePage = CHARSET_CODE_PAGES[parameter];
            if (codePage !== undefined) fontCodePages.set(definingFont, codePage);
          }
          group.skip = true;
          continue;
        }
        if (word === 'ansicpg' && parameter !== undefined) documentCodePage = parameter;
        else if (word === 'mac') documentCodePage = 10000;
        else if (word === 'pc') documentCodePage = 437;
        else if (word === 'pca') documentCodePage = 850;
        else if (word === 'f' && parameter !== undefined) {
          flushBytes();
          group.codePage = fontCodePages.get(parameter);
        } else if (word === 'uc' && parameter !== undefined) group.fallback = Math.max(0, parameter);
        else if (word === 'u' && parameter !== undefined) {
          emit(String.fromCharCode(parameter < 0 ? parameter + 65536 : parameter));
          toSkip = group.fallback;
        } else {
          const character = CHARACTER_WORDS[word];
          if (character !== undefined) {
            if (word === 'row' && !group.skip) {
              flushBytes();
              // A row's last cell ends with a separator that separates nothing.
              if (out[out.length - 1] === ' | ') out.pop();
            }
            emit(character);
          }
        }
        continue;
      }
      // A control symbol: \'hh, \*, an escaped character, or a special space or hyphen. `\*`
      // leaves the group's start open: the control word after it names the destination.
      if (next !== 0x2a) groupStart = false;
      if (next === 0x27 /* ' */) {
        const value = hexValue(bytes[i + 2]) * 16 + hexValue(bytes[i + 3]);
        i += 4;
        if (Number.isNaN(value)) continue;
        if (toSkip > 0) toSkip--;
        else if (!group.skip) pendingBytes.push(value);
        continue;
      }
      i += 2;
      if (next === 0x2a /* * */) starred = true;
      else if (next === 0x5c || next === 0x7b || next === 0x7d) {
        if (toSkip > 0) toSkip--;
        else emit(String.fromCharCode(next));
      } else if (next === 0x7e /* ~ */) emit('\u00a0');
      else if (next === 0x5f /* _ */) emit('-');
      else if (next === 0x0a || next === 0x0d) emit('\n');
      continue;
    }
    // Line ends in RTF source are not text.
    i++;
    groupStart = false;
    if (byte === 0x0a || byte === 0x0d) continue;
    if (toSkip > 0) {
      toSkip--;
      continue;
    }
    if (group.skip) continue;
    if (byte >= 0x80) {
      pendingBytes.push(byte);
      continue;
    }
    // A run of plain ASCII text goes out in one piece.
    let end = i;
    while (end < length && isPlain(bytes[end] ?? 0)) end++;
    emit(Buffer.from(bytes.subarray(i - 1, end)).toString('latin1'));
    i = end;
  }
  flushBytes();
  return out
    .join('')
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, (run) => (run.includes('\t') ? '\t' : ' ')).trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** `\*` destinations that do hold text a reader sees (read, though starred). */
const KNOWN_TEXT_DESTINATIONS = new Set(['shptxt', 'footnote', 'fldrslt']);

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: rtfToText(bytes) });
}
