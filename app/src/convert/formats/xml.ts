// XML → the text content of its elements, one line per element that holds text. saxes reads it:
// maintained, strict, streaming (no tree, no recursion), and it never expands entities declared
// in a DTD nor fetches external ones, so neither an entity bomb ("billion laughs") nor XXE can
// reach anything. References to such entities are dropped from the text. Nesting is counted as
// elements open and refused past MAX_XML_DEPTH, before it costs anything.
import { SaxesParser } from 'saxes';
import { decodeText } from '../text.js';
import { ConversionError, type Extracted } from '../types.js';

export const MAX_XML_DEPTH = 256;

const DECLARED_ENTITY = /&[A-Za-z_][\w.-]*;/g;

export function xmlToText(xml: string): string {
  const parser = new SaxesParser({ position: true });
  // Element boundaries become line breaks; text within an element stays on its line.
  const pieces: string[] = [];
  let depth = 0;
  const boundary = () => {
    if (pieces.at(-1) !== '\n') pieces.push('\n');
  };
  parser.on('opentag', () => {
    depth++;
    if (depth > MAX_XML_DEPTH) throw new ConversionError('too_large', `elements nest deeper than ${MAX_XML_DEPTH} levels, more than this reader allows`);
    boundary();
  });
  parser.on('closetag', () => {
    depth--;
    boundary();
  });
  parser.on('text', (text) => pieces.push(text.replace(DECLARED_ENTITY, ' ')));
  parser.on('cdata', (text) => pieces.push(text));
  parser.on('error', (error) => {
    // An entity declared in the DTD, which saxes leaves unexpanded on purpose.
    if (/undefined entity/.test(error.message)) return;
    throw new ConversionError('corrupt', `not well-formed XML: ${error.message}`);
  });
  parser.write(xml).close();
  return pieces
    .join('')
    .split('\n')
    .map((line) => line.replace(/\s+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

export function convert(bytes: Uint8Array): Promise<Extracted> {
  return Promise.resolve({ text: xmlToText(decodeText(bytes)) });
}
