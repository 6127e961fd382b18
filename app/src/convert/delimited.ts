// CSV and TSV → text: the file as one table (convert/structured-text.ts), its first non-empty row
// the header. Decoded as editors would (convert/text.ts), then parsed by csv-parse (maintained,
// RFC 4180 quoting, multi-line fields): quoted separators and line breaks inside a field stay in
// their cell. Lenient where exports are sloppy (ragged rows, stray quotes); what it still cannot
// parse is `corrupt`, with the parser's own line number.
import { parse } from 'csv-parse/sync';
import { StructuredText } from './structured-text.js';
import { decodeText } from './text.js';
import { ConversionError, type Extracted } from './types.js';

/** Separators a `.csv` may use: Excel writes `;` where the decimal mark is a comma. */
const CSV_SEPARATORS = [',', ';', '\t', '|'] as const;
/** Lines looked at to pick the separator. */
const SAMPLE_LINES = 20;

/** Occurrences of `separator` in a line, outside double quotes. */
function countOutsideQuotes(line: string, separator: string): number {
  let count = 0;
  let quoted = false;
  for (const char of line) {
    if (char === '"') quoted = !quoted;
    else if (char === separator && !quoted) count += 1;
  }
  return count;
}

/**
 * The separator of a CSV: of those that occur, the one that splits the most sample lines into the
 * same number of fields (a table's rows agree; a comma inside text does not). Comma when none does.
 */
export function detectSeparator(text: string): string {
  const lines = text.split(/\r?\n/, SAMPLE_LINES + 1).slice(0, SAMPLE_LINES).filter((line) => line.trim() !== '');
  let best = { separator: ',', score: 0 };
  for (const separator of CSV_SEPARATORS) {
    const counts = lines.map((line) => countOutsideQuotes(line, separator)).filter((count) => count > 0);
    if (counts.length === 0) continue;
    const frequency = new Map<number, number>();
    for (const count of counts) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    const agreeing = Math.max(...frequency.values());
    if (agreeing > best.score) best = { separator, score: agreeing };
  }
  return best.separator;
}

/** `separator` undefined: detected (CSV). */
export function convertDelimited(bytes: Uint8Array, separator: string | undefined, label: string): Extracted {
  const text = decodeText(bytes);
  const delimiter = separator ?? detectSeparator(text);
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true });
  } catch (error) {
    throw new ConversionError('corrupt', `${label} could not be parsed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const out = new StructuredText();
  out.table(rows);
  return out.build();
}
