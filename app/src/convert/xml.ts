// Streaming reads of the XML parts of office files (XLSX sheets, ODS content, DOCX headers).
// htmlparser2's parser in XML mode: maintained, already in the tree (html-to-text reads HTML with
// it), a SAX-style stream of events, so a sheet of a million cells is never a tree in memory. It
// never expands DOCTYPE entities (no "billion laughs"), only XML's five and numeric ones.
import { Parser } from 'htmlparser2';

export type XmlAttributes = Readonly<Record<string, string>>;

export interface XmlHandlers {
  /** An element opens; `name` is its local name (prefix dropped: `x:c` and `c` are both `c`). */
  open?(name: string, attributes: XmlAttributes): void;
  close?(name: string): void;
  text?(text: string): void;
}

/** The local part of a qualified name. */
export function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** An attribute by its local name, whatever prefix the file gave it (`table:name`, `r:id`). */
export function attribute(attributes: XmlAttributes, name: string): string | undefined {
  if (attributes[name] !== undefined) return attributes[name];
  for (const [key, value] of Object.entries(attributes)) if (localName(key) === name) return value;
  return undefined;
}

/** Runs `handlers` over the document's events in order. */
export function walkXml(xml: string, handlers: XmlHandlers): void {
  const parser = new Parser(
    {
      onopentag: (name, attributes) => handlers.open?.(localName(name), attributes),
      onclosetag: (name) => handlers.close?.(localName(name)),
      ontext: (text) => handlers.text?.(text),
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.end(xml);
}
