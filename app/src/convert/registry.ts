// Every format the worker reads, in one list. Detection (convert/detect.ts), the extensions that
// `index`, `upload` and `backfill` pick, the CLI's help and the formats tables in README.md and
// docs/operations.md (`npm run docs:config`) all derive from FORMATS; adding a format is one
// module in formats/, one entry here, and its tests.
//
// Converters are imported on first use (`load`): together they take seconds to load, which a
// worker would otherwise pay before it can report ready, whatever formats its bucket holds.
import type { ConvertLimits, Extracted } from './types.js';

/** What a format's converter is given besides the bytes. */
export interface ConvertContext {
  /** The key's last segment or the local file name. */
  readonly fileName: string;
  readonly limits: ConvertLimits;
}

export interface FormatModule {
  /** Bytes → text and structure; throws ConversionError for what it cannot read. */
  convert(bytes: Uint8Array, context: ConvertContext): Promise<Extracted>;
}

/** A container that several formats share: which of them a file is, its extension decides. */
export type Container = 'zip' | 'cfb';

export interface FormatSpec {
  /** The format's name in chunks' and logs' `type` field. */
  readonly type: string;
  /** What people call it, for tables and messages. */
  readonly name: string;
  readonly contentType: string;
  /** Lower case with the dot; the first is the usual one. */
  readonly extensions: readonly string[];
  /** file-type's names (its `ext`) for content that is this format whatever the file is called. */
  readonly signatures?: readonly string[];
  /** Containers this format comes in, told apart by extension (a DOCX damaged past file-type's recognition is still a ZIP). */
  readonly containers?: readonly Container[];
  /** Text formats: content without a signature, named by extension. */
  readonly text?: true;
  /** Text formats: recognised by the first KiB when the name has no extension. */
  readonly looksLike?: (head: string) => boolean;
  /** What is kept of a file, for the formats table. */
  readonly keeps: string;
  readonly load: () => Promise<FormatModule>;
}

const HTML_START = /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html[\s>])/i;

/** Images are read by OCR (formats/image.ts). */
const IMAGE_KEEPS = 'text read by OCR (OCR_MODE, OCR_LANGUAGES), with its confidence';

/** What a file without an extension, and without any other format's look, is read as. */
export const PLAIN_TEXT: FormatSpec = {
    type: 'text',
    name: 'plain text',
    contentType: 'text/plain',
    extensions: ['.txt', '.text'],
    text: true,
    keeps: 'all of it, in any encoding an editor would detect',
    load: () => import('./formats/plain-text.js'),
  };

export const FORMATS: readonly FormatSpec[] = [
  {
    type: 'pdf',
    name: 'PDF',
    contentType: 'application/pdf',
    extensions: ['.pdf'],
    signatures: ['pdf'],
    keeps: 'text layer in reading order, page numbers; pages without text read by OCR (OCR_MODE)',
    load: () => import('./formats/pdf.js'),
  },
  {
    type: 'docx',
    name: 'Word (DOCX)',
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extensions: ['.docx'],
    signatures: ['docx'],
    containers: ['zip'],
    keeps: 'body text in reading order',
    load: () => import('./formats/docx.js'),
  },
  {
    type: 'html',
    name: 'HTML',
    contentType: 'text/html',
    extensions: ['.html', '.htm', '.xhtml'],
    text: true,
    looksLike: (head) => HTML_START.test(head),
    keeps: 'visible text; headings and blocks as lines; tables as rows (scripts, styles, navigation markup dropped)',
    load: () => import('./formats/html.js'),
  },
  {
    type: 'markdown',
    name: 'Markdown',
    contentType: 'text/markdown',
    extensions: ['.md', '.markdown'],
    text: true,
    keeps: 'text without markup; tables as rows',
    load: () => import('./formats/markdown.js'),
  },
  {
    type: 'png',
    name: 'PNG image',
    contentType: 'image/png',
    extensions: ['.png'],
    signatures: ['png'],
    keeps: IMAGE_KEEPS,
    load: () => import('./formats/image.js'),
  },
  {
    type: 'jpeg',
    name: 'JPEG image',
    contentType: 'image/jpeg',
    extensions: ['.jpg', '.jpeg'],
    signatures: ['jpg'],
    keeps: IMAGE_KEEPS,
    load: () => import('./formats/image.js'),
  },
  {
    type: 'tiff',
    name: 'TIFF image',
    contentType: 'image/tiff',
    extensions: ['.tiff', '.tif'],
    signatures: ['tif'],
    keeps: IMAGE_KEEPS + '; every page, page numbers',
    load: () => import('./formats/image.js'),
  },
  {
    type: 'webp',
    name: 'WebP image',
    contentType: 'image/webp',
    extensions: ['.webp'],
    signatures: ['webp'],
    keeps: IMAGE_KEEPS,
    load: () => import('./formats/image.js'),
  },
  {
    type: 'bmp',
    name: 'BMP image',
    contentType: 'image/bmp',
    extensions: ['.bmp'],
    signatures: ['bmp'],
    keeps: IMAGE_KEEPS,
    load: () => import('./formats/image.js'),
  },
  PLAIN_TEXT,
];

/** Every extension a format claims, in registry order. */
export const SUPPORTED_EXTENSIONS: readonly string[] = FORMATS.flatMap((format) => format.extensions);

export function formatNamed(type: string): FormatSpec | undefined {
  return FORMATS.find((format) => format.type === type);
}

export function formatOfExtension(extension: string): FormatSpec | undefined {
  return FORMATS.find((format) => format.extensions.includes(extension));
}

/** The formats as a Markdown table, for README.md and docs/operations.md. */
export function formatsReferenceMarkdown(): string {
  const rows = FORMATS.map((format) => `| ${format.name} | ${format.extensions.map((extension) => `\`${extension}\``).join(' ')} | ${format.keeps} |`);
  return ['| format | extensions | what is kept |', '|---|---|---|', ...rows].join('\n');
}
