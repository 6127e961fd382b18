// Every format the worker reads, in one list. Detection (convert/detect.ts), the extensions that
// `index`, `upload` and `backfill` pick, the CLI's help and the formats tables in README.md and
// docs/operations.md (`npm run docs:config`) all derive from FORMATS; adding a format is one
// module in formats/, one entry here, and its tests.
//
// Converters are imported on first use (`load`): together they take seconds to load, which a
// worker would otherwise pay before it can report ready, whatever formats its bucket holds.
import type { Converted, ConvertLimits, Extracted } from './types.js';

/** What a format's converter is given besides the bytes. */
export interface ConvertContext {
  /** The key's last segment or the local file name. */
  readonly fileName: string;
  readonly limits: ConvertLimits;
  /**
   * Converts a document found inside this one (an e-mail's attachment) as a file of its own, by
   * the registry. Absent where parts are not expanded (inside a part: convert/index.ts).
   */
  readonly convertPart?: (bytes: Uint8Array, fileName: string) => Promise<Converted>;
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

/** A mail's header block: header lines from the first line on, one of them a mail's own. */
function looksLikeMail(head: string): boolean {
  const block = head.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const lines = block.split(/\r?\n/);
  if (!/^[!-9;-~]+:/.test(lines[0] ?? '')) return false;
  const fields = lines.filter((line) => /^[!-9;-~]+:/.test(line));
  return fields.length >= 2 && fields.some((line) => /^(?:from|received|mime-version|return-path|delivered-to|message-id):/i.test(line));
}

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
    keeps: 'text layer in reading order (columns one after the other), lines joined into paragraphs, hyphenated line ends mended, a running header or footer once; page numbers; pages without text read by OCR (OCR_MODE)',
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
    type: 'pptx',
    name: 'PowerPoint (PPTX)',
    contentType: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    extensions: ['.pptx'],
    signatures: ['pptx'],
    // A password-protected PPTX is an OLE compound file: read as PPTX to be refused as `encrypted`.
    containers: ['zip', 'cfb'],
    keeps: 'slide text in reading order, tables as rows, speaker notes; the slide number as the page',
    load: () => import('./formats/pptx.js'),
  },
  {
    type: 'odt',
    name: 'OpenDocument text (ODT)',
    contentType: 'application/vnd.oasis.opendocument.text',
    extensions: ['.odt'],
    signatures: ['odt'],
    containers: ['zip'],
    keeps: 'text in reading order, footnotes where they are marked, tables as rows',
    load: () => import('./formats/odt.js'),
  },
  {
    type: 'odp',
    name: 'OpenDocument presentation (ODP)',
    contentType: 'application/vnd.oasis.opendocument.presentation',
    extensions: ['.odp'],
    signatures: ['odp'],
    containers: ['zip'],
    keeps: 'slide text in reading order, tables as rows, speaker notes; the slide number as the page',
    load: () => import('./formats/odp.js'),
  },
  {
    type: 'epub',
    name: 'EPUB',
    contentType: 'application/epub+zip',
    extensions: ['.epub'],
    signatures: ['epub'],
    containers: ['zip'],
    keeps: 'the chapters in reading order (as HTML is kept), each a section named by its title',
    load: () => import('./formats/epub.js'),
  },
  {
    type: 'rtf',
    name: 'Rich Text Format (RTF)',
    contentType: 'application/rtf',
    extensions: ['.rtf'],
    signatures: ['rtf'],
    keeps: 'text in reading order with headers, footers and footnotes; table rows as lines (fonts, styles, pictures dropped)',
    load: () => import('./formats/rtf.js'),
  },
  {
    type: 'doc',
    name: 'Word 97–2003 (DOC)',
    contentType: 'application/msword',
    extensions: ['.doc'],
    containers: ['cfb'],
    keeps: 'body text, then headers and footers once, footnotes, endnotes and text boxes',
    load: () => import('./formats/doc.js'),
  },
  {
    type: 'ppt',
    name: 'PowerPoint 97–2003 (PPT)',
    contentType: 'application/vnd.ms-powerpoint',
    extensions: ['.ppt'],
    containers: ['cfb'],
    keeps: 'nothing: refused as `legacy_format` (no maintained JavaScript reader); save it as .pptx',
    load: () => import('./formats/ppt.js'),
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
    type: 'eml',
    name: 'E-mail (EML)',
    contentType: 'message/rfc822',
    extensions: ['.eml'],
    text: true,
    looksLike: looksLikeMail,
    keeps: 'From, To, Cc, Date and Subject, then the text body (the HTML body when there is no text part); readable attachments as documents of their own, `<key>#<attachment name>`',
    load: () => import('./formats/eml.js'),
  },
  {
    type: 'msg',
    name: 'Outlook item (MSG)',
    contentType: 'application/vnd.ms-outlook',
    extensions: ['.msg'],
    containers: ['cfb'],
    keeps: 'as E-mail (EML); a body kept only as RTF is not read',
    load: () => import('./formats/msg.js'),
  },
  {
    type: 'json',
    name: 'JSON',
    contentType: 'application/json',
    extensions: ['.json'],
    text: true,
    keeps: 'values after their key paths (`author.name: Ada`), records apart; no braces or quotes; nesting up to 100 levels',
    load: () => import('./formats/json.js'),
  },
  {
    type: 'ndjson',
    name: 'NDJSON (JSON Lines)',
    contentType: 'application/x-ndjson',
    extensions: ['.ndjson', '.jsonl'],
    text: true,
    keeps: 'each line as JSON, one record after another',
    load: () => import('./formats/ndjson.js'),
  },
  {
    type: 'xml',
    name: 'XML',
    contentType: 'application/xml',
    extensions: ['.xml'],
    text: true,
    looksLike: (head) => /^\uFEFF?\s*<\?xml[\s?]/.test(head),
    keeps: 'text of the elements, a line per element; entities from DTDs never expanded; nesting up to 256 levels',
    load: () => import('./formats/xml.js'),
  },
  {
    type: 'rst',
    name: 'reStructuredText',
    contentType: 'text/x-rst',
    extensions: ['.rst', '.rest'],
    text: true,
    keeps: 'text without markup (adornments, directives, roles, link targets, comments)',
    load: () => import('./formats/rst.js'),
  },
  {
    type: 'org',
    name: 'Org mode',
    contentType: 'text/x-org',
    extensions: ['.org'],
    text: true,
    keeps: 'text without markup (headline keywords and tags, drawers, block lines, comments); tables as rows',
    load: () => import('./formats/org.js'),
  },
  {
    type: 'xlsx',
    name: 'Excel (XLSX)',
    contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extensions: ['.xlsx', '.xlsm'],
    signatures: ['xlsx'],
    // A password-protected workbook is an OLE container: the converter says so.
    containers: ['zip', 'cfb'],
    keeps: 'every sheet: its name as the section, its rows under their header row; values as displayed (dates and numbers through their formats)',
    load: () => import('./formats/xlsx.js'),
  },
  {
    type: 'ods',
    name: 'OpenDocument spreadsheet (ODS)',
    contentType: 'application/vnd.oasis.opendocument.spreadsheet',
    extensions: ['.ods'],
    signatures: ['ods'],
    containers: ['zip'],
    keeps: 'every sheet: its name as the section, its rows under their header row; values as displayed',
    load: () => import('./formats/ods.js'),
  },
  {
    type: 'csv',
    name: 'CSV',
    contentType: 'text/csv',
    extensions: ['.csv'],
    text: true,
    keeps: 'rows under their header row; separator , ; tab or | detected',
    load: () => import('./formats/csv.js'),
  },
  {
    type: 'tsv',
    name: 'TSV',
    contentType: 'text/tab-separated-values',
    extensions: ['.tsv', '.tab'],
    text: true,
    keeps: 'rows under their header row',
    load: () => import('./formats/tsv.js'),
  },
  {
    type: 'xls',
    name: 'legacy Excel (XLS)',
    contentType: 'application/vnd.ms-excel',
    extensions: ['.xls'],
    containers: ['cfb'],
    keeps: 'nothing: refused (legacy_format) with the fix, save as .xlsx; no maintained pure-JS reader exists',
    load: () => import('./formats/xls.js'),
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

/** The format a declared media type names (an attachment's Content-Type), parameters ignored. */
export function formatOfContentType(contentType: string): FormatSpec | undefined {
  const bare = contentType.split(';')[0]?.trim().toLowerCase();
  return FORMATS.find((format) => format.contentType === bare);
}

export function formatOfExtension(extension: string): FormatSpec | undefined {
  return FORMATS.find((format) => format.extensions.includes(extension));
}

/** The formats as a Markdown table, for README.md and docs/operations.md. */
export function formatsReferenceMarkdown(): string {
  const rows = FORMATS.map((format) => `| ${format.name} | ${format.extensions.map((extension) => `\`${extension}\``).join(' ')} | ${format.keeps.replace(/\|/g, '\\|')} |`);
  return ['| format | extensions | what is kept |', '|---|---|---|', ...rows].join('\n');
}
