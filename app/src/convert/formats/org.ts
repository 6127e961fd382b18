// Org mode → plain text. A small line reader of our own: uniorg (the maintained parser of the
// unified family) is GPL-3.0, which this Apache-2.0 project cannot ship, and orga brings 35 MB of
// date-fns and a dependency that declares Node 22. What carries no words goes: headline stars,
// TODO keywords, priorities and tags, #+KEYWORD lines (the title's value is kept), block
// delimiters (a comment block goes with its body), property and logbook drawers, comments, table
// rules; links keep their description, emphasis its text, timestamps their date.
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';

const HEADLINE = /^\*+\s+(?:(?:TODO|DONE|NEXT|WAITING|HOLD|CANCELLED|CANCELED)\s+)?(?:\[#[A-Z0-9]\]\s+)?(.*?)(?:\s+:[\w@#%:]+:)?\s*$/;
const KEYWORD = /^#\+(\w+):\s*(.*)$/;
const KEPT_KEYWORDS = new Set(['title', 'subtitle', 'author', 'description', 'caption']);
const BLOCK_BEGIN = /^#\+begin_(\w+)/i;
const BLOCK_END = /^#\+end_(\w+)/i;
const DRAWER = /^:[\w-]+:\s*$/;

/** Links, emphasis, timestamps, footnote references out of one line. */
export function stripInline(line: string): string {
  return (
    line
      // [[target][description]] → description; [[target]] → target
      .replace(/\[\[([^\]]*)\]\[([^\]]*)\]\]/g, '$2')
      .replace(/\[\[([^\]]*)\]\]/g, '$1')
      .replace(/\[fn:[\w-]*\]/g, '')
      // <2024-05-01 Wed 10:00> and [2024-05-01 Wed] → the date as written
      .replace(/[<[](\d{4}-\d{2}-\d{2}[^>\]]*)[>\]]/g, '$1')
      // *bold* /italic/ _underline_ =verbatim= ~code~ +strike+ , delimited as org does
      .replace(/(^|[\s({'"-])([*/_=~+])(\S|\S.*?\S)\2(?=$|[\s)}'".,;:!?-])/g, '$1$3')
  );
}

export function orgToText(source: string): string {
  const out: string[] = [];
  let commentBlock = false;
  let drawer = false;
  for (const raw of source.replace(/\r\n?/g, '\n').split('\n')) {
    const line = raw.trim();
    if (commentBlock) {
      if (/^#\+end_comment/i.test(line)) commentBlock = false;
      continue;
    }
    if (drawer) {
      if (/^:end:\s*$/i.test(line)) drawer = false;
      continue;
    }
    const begin = BLOCK_BEGIN.exec(line);
    if (begin !== null) {
      commentBlock = begin[1]?.toLowerCase() === 'comment';
      continue;
    }
    if (BLOCK_END.test(line)) continue;
    if (DRAWER.test(line) && !/^:end:/i.test(line)) {
      drawer = true;
      continue;
    }
    const keyword = KEYWORD.exec(line);
    if (keyword !== null) {
      if (KEPT_KEYWORDS.has(keyword[1]?.toLowerCase() ?? '') && keyword[2]) out.push(stripInline(keyword[2]));
      continue;
    }
    // Comments: "# text" and the lone "#".
    if (/^#(?:\s|$)/.test(line)) continue;
    const headline = HEADLINE.exec(raw);
    if (headline !== null) {
      out.push(stripInline(headline[1] ?? ''));
      continue;
    }
    // Tables: rules dropped, rows as cells between bars.
    if (/^\|[-+|]*$/.test(line) && line.includes('-')) continue;
    if (line.startsWith('|')) {
      out.push(
        line
          .replace(/^\||\|$/g, '')
          .split('|')
          .map((cell) => stripInline(cell.trim()))
          .join(' | '),
      );
      continue;
    }
    // Fixed-width lines ": text" keep their text.
    out.push(stripInline(line.replace(/^:\s/, '')));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: orgToText(decodeText(bytes)) });
}
