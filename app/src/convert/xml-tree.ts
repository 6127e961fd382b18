// XML parts of office files (PPTX, OpenDocument, EPUB's container and package) → a small element
// tree that converters walk in document order.
//
// saxes is the parser: jsdom's XML parser, strictly conforming, pure JS with one small dependency,
// and it has no DTD processing at all. Only the five predefined entities and character references
// are expanded; an entity a DOCTYPE declares is "undefined" and fails the parse, so neither
// external entities (XXE) nor nested expansions (billion laughs) can happen. fast-xml-parser was
// the other candidate; its object output loses the order of mixed content unless asked to keep it,
// and it expands DOCTYPE entities unless told not to.
//
// Nesting deeper than MAX_DEPTH is refused while parsing, before any recursive walker sees the tree.
import { SaxesParser } from 'saxes';
import { ConversionError } from './types.js';

export interface XmlElement {
  /** The qualified name as written (`a:t`, `text:p`). */
  readonly name: string;
  /** The name without its prefix (`t`, `p`): office formats' prefixes are conventions, not fixed. */
  readonly local: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: (XmlElement | string)[];
}

/** Deeper than any office document nests (a slide's group shapes, an ODT's nested lists and tables). */
export const MAX_DEPTH = 256;

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/** Parses a whole XML document; malformed XML and nesting past MAX_DEPTH are `corrupt`. */
export function parseXml(xml: string, label: string): XmlElement {
  const parser = new SaxesParser({ position: false });
  const root: XmlElement = { name: '#document', local: '#document', attributes: {}, children: [] };
  const open: XmlElement[] = [root];
  let failure: Error | undefined;
  parser.on('error', (error) => {
    failure ??= error;
  });
  parser.on('opentag', (tag) => {
    if (open.length > MAX_DEPTH) {
      throw new ConversionError('corrupt', `${label} nests XML elements more than ${MAX_DEPTH} deep`);
    }
    const element: XmlElement = { name: tag.name, local: localName(tag.name), attributes: tag.attributes as Record<string, string>, children: [] };
    open[open.length - 1]?.children.push(element);
    open.push(element);
  });
  parser.on('closetag', () => {
    open.pop();
  });
  const addText = (text: string): void => {
    open[open.length - 1]?.children.push(text);
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  try {
    parser.write(xml).close();
  } catch (error) {
    if (error instanceof ConversionError) throw error;
    failure ??= error instanceof Error ? error : new Error(String(error));
  }
  const element = root.children.find((child): child is XmlElement => typeof child !== 'string');
  if (failure !== undefined || element === undefined) {
    throw new ConversionError('corrupt', `${label} is not well-formed XML: ${failure?.message ?? 'no root element'}`, { cause: failure });
  }
  return element;
}

export function isElement(node: XmlElement | string): node is XmlElement {
  return typeof node !== 'string';
}

/** Child elements with this local name. */
export function childrenNamed(element: XmlElement, local: string): XmlElement[] {
  return element.children.filter((child): child is XmlElement => isElement(child) && child.local === local);
}

export function childNamed(element: XmlElement, local: string): XmlElement | undefined {
  return element.children.find((child): child is XmlElement => isElement(child) && child.local === local);
}

/** Every descendant with this local name, in document order (not looking inside a match). */
export function descendantsNamed(element: XmlElement, local: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (node: XmlElement): void => {
    for (const child of node.children) {
      if (!isElement(child)) continue;
      if (child.local === local) found.push(child);
      else visit(child);
    }
  };
  visit(element);
  return found;
}

/** An attribute by its local name, whatever its prefix. */
export function attribute(element: XmlElement, local: string): string | undefined {
  for (const [name, value] of Object.entries(element.attributes)) {
    if (localName(name) === local && !name.startsWith('xmlns')) return value;
  }
  return undefined;
}
