// reStructuredText → plain text. No maintained JavaScript reader exists (the npm parsers were last
// published in 2016-2017, and docutils is Python), so this is a small line reader for what carries
// no words: section adornments, directive and target lines, comments, and inline markup (emphasis,
// literals, roles, references, substitutions, footnote references). Content directives (note,
// warning, code-block…) keep their text; directives that name files or build output (image,
// include, toctree, raw…) are dropped with their bodies.
import { decodeText } from '../text.js';
import type { Extracted } from '../types.js';

const ADORNMENT = /^([!-/:-@[-`{-~])\1{2,}\s*$/;
const EXPLICIT = /^(\s*)\.\.(?:\s+(.*))?$/;
const DIRECTIVE = /^([\w:.+-]+)::\s*(.*)$/;
/** Directives whose body is not prose: their line and indented body are dropped. */
/** Directives whose argument is not prose (a language name), though their body is kept. */
const BARE = new Set(['code', 'code-block', 'sourcecode', 'math', 'only', 'container', 'table', 'list-table']);
const DROPPED = new Set(['image', 'include', 'literalinclude', 'raw', 'toctree', 'contents', 'sectnum', 'section-numbering', 'meta', 'index', 'highlight', 'role', 'default-role', 'csv-table', 'class', 'autosummary', 'automodule', 'autoclass', 'autofunction']);

/** Inline markup out of one line of prose. */
export function stripInline(line: string): string {
  return (
    line
      // :role:`text <target>` and :role:`text`
      .replace(/:[\w:.+-]+:`([^`<]*?)\s*(?:<[^`>]*>)?`/g, '$1')
      // `text <url>`_ , `text`_ , `text`__
      .replace(/`([^`<]*?)\s*(?:<[^`>]*>)?`_{1,2}/g, '$1')
      // ``literal``, `interpreted`
      .replace(/``(.+?)``/g, '$1')
      .replace(/`([^`]+)`/g, '$1')
      // **strong**, *emphasis*
      .replace(/\*\*(\S(?:.*?\S)?)\*\*/g, '$1')
      .replace(/(^|[\s(["'])\*(\S(?:.*?\S)?)\*(?=$|[\s)\].,;:!?'"-])/g, '$1$2')
      // footnote and citation references [1]_ [#note]_ , substitutions |name|
      .replace(/\s?\[[#*\w.-]*\]_/g, '')
      .replace(/\|([^|\s][^|]*?)\|(?:_{1,2})?/g, '$1')
      // reference_ (a word followed by an underscore and a break)
      .replace(/\b([A-Za-z][\w-]*)__?(?=$|[\s.,;:!?)])/g, '$1')
      // a paragraph that introduces a literal block: "Example::" reads "Example:"
      .replace(/::\s*$/, ':')
  );
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

export function rstToText(source: string): string {
  const lines = source.replace(/\r\n?/g, '\n').replace(/\t/g, '        ').split('\n');
  const out: string[] = [];
  /** Indentation past which lines belong to a dropped block; -1 when none. */
  let droppingAbove = -1;
  for (const line of lines) {
    const trimmed = line.trim();
    if (droppingAbove >= 0) {
      if (trimmed === '' || indentOf(line) > droppingAbove) continue;
      droppingAbove = -1;
    }
    if (trimmed === '::') continue;
    if (ADORNMENT.test(trimmed)) continue;
    const explicit = EXPLICIT.exec(line);
    if (explicit !== null) {
      const indent = explicit[1]?.length ?? 0;
      const rest = explicit[2] ?? '';
      const directive = DIRECTIVE.exec(rest);
      if (directive !== null) {
        const name = directive[1]?.toLowerCase() ?? '';
        if (DROPPED.has(name)) droppingAbove = indent;
        else if (directive[2] && !BARE.has(name)) out.push(stripInline(directive[2]));
        continue;
      }
      // Footnotes and citations keep their text: ".. [1] text".
      const note = /^\[([#*\w.-]*)\]\s+(.*)$/.exec(rest);
      if (note !== null) {
        out.push(stripInline(note[2] ?? ''));
        continue;
      }
      // Substitution definitions keep what they stand for: ".. |name| replace:: text".
      const substitution = /^\|[^|]+\|\s+[\w-]+::\s*(.*)$/.exec(rest);
      if (substitution !== null) {
        if (/\breplace::/.test(rest) && substitution[1]) out.push(stripInline(substitution[1]));
        continue;
      }
      // Hyperlink targets (".. _name: url") and comments: nothing to read, body included.
      droppingAbove = indent;
      continue;
    }
    // Field lists ":Author: Ada" read "Author: Ada".
    const field = /^(\s*):([^:`]+):\s+(.*)$/.exec(line);
    if (field !== null) {
      out.push(`${field[2] ?? ''}: ${stripInline(field[3] ?? '')}`);
      continue;
    }
    out.push(trimmed === '' ? '' : stripInline(trimmed));
  }
  return out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: rstToText(decodeText(bytes)) });
}
