// Control characters out of converted text. C0 and C1 controls (and DEL) carry no words: they
// reach the index only as noise, and a terminal that prints a search hit would act on them (an
// escape sequence in a hostile page can retitle a window, write to the clipboard, forge lines).
// Tab and newline stay; a carriage return becomes a newline unless one follows it.

// eslint-disable-next-line no-control-regex -- control characters are what this matches
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\r(?!\n)|\r(?=\n)/g;

/** `text` without control characters; `pages` offsets moved to match (a page keeps its start). */
export function withoutControls<T extends { readonly text: string; readonly pages?: readonly { readonly page: number; readonly offset: number }[] }>(converted: T): T {
  const { text, pages } = converted;
  CONTROLS.lastIndex = 0;
  if (!CONTROLS.test(text)) return converted;
  // Where each removal happened (in the old text) and how many characters it took away.
  const removedAt: number[] = [];
  const cleaned = text.replace(CONTROLS, (match: string, at: number) => {
    if (match === '\r' && text[at + 1] !== '\n') return '\n';
    removedAt.push(at);
    return '';
  });
  if (pages === undefined) return { ...converted, text: cleaned };
  let removed = 0;
  const moved = pages.map((start) => {
    while (removed < removedAt.length && (removedAt[removed] ?? Infinity) < start.offset) removed++;
    return { ...start, offset: start.offset - removed };
  });
  return { ...converted, text: cleaned, pages: moved };
}
