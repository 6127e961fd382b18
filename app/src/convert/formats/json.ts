// JSON and NDJSON → text: each value on a line after its key path ("author.name: Ada"), so a
// record's facts read as sentences and keep the names that say what they are, without braces,
// quotes or commas. Arrays of plain values share one line; records in arrays are set apart by a
// blank line. Nesting is measured on the bytes before JSON.parse sees them, and refused past
// MAX_JSON_DEPTH: the walk below recurses, and no real document nests that deep.
import { decodeText } from '../text.js';
import { ConversionError, type Extracted } from '../types.js';

export const MAX_JSON_DEPTH = 100;

/** How deep `json` nests, counted on its brackets outside strings; stops counting past `limit`. */
export function nestingDepth(json: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

function isPlain(value: Json): value is string | number | boolean | null {
  return value === null || typeof value !== 'object';
}

function walk(value: Json, path: string, lines: string[]): void {
  const label = path === '' ? '' : `${path}: `;
  if (value === null) return;
  if (typeof value !== 'object') {
    const text = String(value).trim();
    if (text !== '') lines.push(label + text);
    return;
  }
  if (Array.isArray(value)) {
    if (value.every(isPlain)) {
      const items = value.filter((item) => item !== null).map((item) => String(item).trim()).filter((item) => item !== '');
      if (items.length > 0) lines.push(label + items.join(', '));
      return;
    }
    for (const item of value) {
      if (!isPlain(item) && lines.length > 0 && lines.at(-1) !== '') lines.push('');
      walk(item, path, lines);
    }
    if (lines.at(-1) !== '') lines.push('');
    return;
  }
  for (const [key, item] of Object.entries(value)) walk(item, path === '' ? key : `${path}.${key}`, lines);
}

function parse(json: string, where: string): Json {
  const depth = nestingDepth(json, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) throw new ConversionError('too_large', `${where}nests deeper than ${MAX_JSON_DEPTH} levels, more than this reader allows`);
  try {
    return JSON.parse(json) as Json;
  } catch (error) {
    throw new ConversionError('corrupt', `${where}is not valid JSON: ${(error as Error).message}`);
  }
}

/** A JSON value as lines of text. */
export function jsonToText(value: Json): string {
  const lines: string[] = [];
  walk(value, '', lines);
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: jsonToText(parse(decodeText(bytes), 'the file ')) });
}

/** NDJSON (JSON Lines): one value per line, each a record set apart by a blank line. */
export function convertLines(bytes: Uint8Array): Promise<Extracted> {
  const records = decodeText(bytes)
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => jsonToText(parse(line, `line ${number} `)))
    .filter((text) => text !== '');
  return Promise.resolve({ text: records.join('\n\n') });
}
