// Control characters out of converted text. C0 and C1 controls (and DEL) carry no words: they
// reach the index only as noise, and a terminal that prints a search hit would act on them (an
// escape sequence in a hostile page can retitle a window, write to the clipboard, forge lines).
// Tab and newline stay; a carriage return becomes a newline unless one follows it.
import type { Extracted } from './types.js';

// eslint-disable-next-line no-control-regex -- control characters are what this matches
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\r(?!\n)|\r(?=\n)/g;

/** `text` without control characters; every offset of its structure moved to match. */
export function withoutControls<T extends Extracted>(converted: T): T {
  const { text, pages, tables, sections } = converted;
  CONTROLS.lastIndex = 0;
  if (!CONTROLS.test(text)) return converted;
  // Where each removal happened (in the old text), in order.
  const removedAt: number[] = [];
  const cleaned = text.replace(CONTROLS, (match: string, at: number) => {
    if (match === '\r' && text[at + 1] !== '\n') return '\n';
    removedAt.push(at);
    return '';
  });
  /** The offset in the cleaned text of old offset `offset`: less the removals before it. */
  const moved = (offset: number): number => {
    let low = 0;
    let high = removedAt.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((removedAt[middle] ?? Infinity) < offset) low = middle + 1;
      else high = middle;
    }
    return offset - low;
  };
  return {
    ...converted,
    text: cleaned,
    ...(pages === undefined ? {} : { pages: pages.map((start) => ({ ...start, offset: moved(start.offset) })) }),
    ...(sections === undefined ? {} : { sections: sections.map((start) => ({ ...start, offset: moved(start.offset) })) }),
    ...(tables === undefined ? {} : { tables: tables.map((table) => ({ start: moved(table.start), headerEnd: moved(table.headerEnd), end: moved(table.end) })) }),
  };
}
