// EPUB → text: the spine's documents in reading order (META-INF/container.xml names the package
// document, whose spine orders its manifest's XHTML files), each through htmlToText like any HTML
// page; each document is a section named by its entry in the table of contents (EPUB 3 nav or
// EPUB 2 NCX), else its <title>, else its file name. Everything is read through BoundedZip; the
// XML parts are parsed with saxes (convert/xml-tree.ts). A book whose chapters are DRM-encrypted
// is refused as `encrypted` (font obfuscation, which encryption.xml also lists, is no obstacle).
import path from 'node:path/posix';
import { decodeText } from '../text.js';
import { TextLayout } from '../text-layout.js';
import { ConversionError, type Extracted } from '../types.js';
import { attribute, childNamed, childrenNamed, descendantsNamed, isElement, parseXml, type XmlElement } from '../xml-tree.js';
import { BoundedZip } from '../zip.js';
import { htmlToText } from './html.js';
import type { ConvertContext } from '../registry.js';

const LABEL = 'EPUB';
const HTML_TYPES = new Set(['application/xhtml+xml', 'text/html']);
/** encryption.xml's algorithms that only mangle embedded fonts (IDPF's and Adobe's), not text. */
const FONT_OBFUSCATION = new Set(['http://www.idpf.org/2008/embedding', 'http://ns.adobe.com/pdf/enc#RC']);

interface ManifestItem {
  readonly path: string;
  readonly mediaType: string;
  readonly properties: string;
}

/** An href inside the book → the archive entry it names (hrefs are URLs: relative, %-encoded). */
function resolveHref(base: string, href: string): string {
  const withoutFragment = href.split('#')[0] ?? '';
  let decoded = withoutFragment;
  try {
    decoded = decodeURIComponent(withoutFragment);
  } catch {
    // Not %-encoded after all: the name as written.
  }
  return path.normalize(path.join(path.dirname(base), decoded)).replace(/^\/+/, '');
}

async function readXml(zip: BoundedZip, name: string): Promise<XmlElement | undefined> {
  const bytes = await zip.read(name);
  return bytes === undefined ? undefined : parseXml(decodeText(bytes), `${LABEL} part ${name}`);
}

const textOf = (element: XmlElement): string =>
  element.children
    .map((child) => (isElement(child) ? textOf(child) : child))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();

/** Chapter titles by archive entry, from an EPUB 2 NCX or an EPUB 3 navigation document. */
async function tableOfContents(zip: BoundedZip, manifest: ReadonlyMap<string, ManifestItem>, spine: XmlElement): Promise<Map<string, string>> {
  const titles = new Map<string, string>();
  const add = (base: string, href: string | undefined, title: string): void => {
    const entry = href === undefined ? undefined : resolveHref(base, href);
    if (entry !== undefined && title.length > 0 && !titles.has(entry)) titles.set(entry, title);
  };
  const items = [...manifest.values()];
  const nav = items.find((item) => item.properties.split(/\s+/).includes('nav'));
  const ncx = manifest.get(attribute(spine, 'toc') ?? '') ?? items.find((item) => item.mediaType === 'application/x-dtbncx+xml');
  try {
    if (nav !== undefined) {
      const document = await readXml(zip, nav.path);
      for (const link of document === undefined ? [] : descendantsNamed(document, 'a')) add(nav.path, attribute(link, 'href'), textOf(link));
    } else if (ncx !== undefined) {
      const document = await readXml(zip, ncx.path);
      for (const point of document === undefined ? [] : descendantsNamed(document, 'navPoint')) {
        // descendantsNamed stops at a match: nested navPoints are reached through their parent's children.
        const visit = (navPoint: XmlElement): void => {
          const label = childNamed(navPoint, 'navLabel');
          const text = label === undefined ? undefined : childNamed(label, 'text');
          add(ncx.path, attribute(childNamed(navPoint, 'content') ?? navPoint, 'src'), text === undefined ? '' : textOf(text));
          for (const child of childrenNamed(navPoint, 'navPoint')) visit(child);
        };
        visit(point);
      }
    }
  } catch (error) {
    // A table of contents only names the chapters; a book whose TOC is not XML (HTML entities in
    // an XHTML nav) is still read, its chapters named by their titles or files.
    if (!(error instanceof ConversionError) || error.reason !== 'corrupt') throw error;
  }
  return titles;
}

/** Entries that META-INF/encryption.xml says are encrypted with something other than font obfuscation. */
async function encryptedEntries(zip: BoundedZip): Promise<Set<string>> {
  const encryption = await readXml(zip, 'META-INF/encryption.xml');
  const entries = new Set<string>();
  for (const data of encryption === undefined ? [] : descendantsNamed(encryption, 'EncryptedData')) {
    const method = attribute(childNamed(data, 'EncryptionMethod') ?? data, 'Algorithm') ?? '';
    if (FONT_OBFUSCATION.has(method)) continue;
    const reference = descendantsNamed(data, 'CipherReference')[0];
    const uri = reference === undefined ? undefined : attribute(reference, 'URI');
    if (uri !== undefined) entries.add(resolveHref('', uri));
  }
  return entries;
}

function documentTitle(html: string): string | undefined {
  const title = /<title[^>]*>([\s\S]{0,1000}?)<\/title>/i.exec(html)?.[1];
  const text = title === undefined ? '' : htmlToText(title).replace(/\s+/g, ' ');
  return text.length > 0 ? text : undefined;
}

export async function convert(bytes: Uint8Array, { limits }: ConvertContext): Promise<Extracted> {
  const zip = await BoundedZip.open(bytes, LABEL, limits);
  const container = await readXml(zip, 'META-INF/container.xml');
  const rootfile = container === undefined ? undefined : descendantsNamed(container, 'rootfile')[0];
  const packagePath = rootfile === undefined ? undefined : attribute(rootfile, 'full-path');
  if (packagePath === undefined) throw new ConversionError('corrupt', `${LABEL} has no META-INF/container.xml naming its package document`);
  const opf = await readXml(zip, packagePath);
  const manifestElement = opf === undefined ? undefined : childNamed(opf, 'manifest');
  const spine = opf === undefined ? undefined : childNamed(opf, 'spine');
  if (manifestElement === undefined || spine === undefined) throw new ConversionError('corrupt', `${LABEL} package ${packagePath} lacks a manifest or spine`);

  const manifest = new Map<string, ManifestItem>();
  for (const item of childrenNamed(manifestElement, 'item')) {
    const [id, href] = [attribute(item, 'id'), attribute(item, 'href')];
    if (id === undefined || href === undefined) continue;
    manifest.set(id, { path: resolveHref(packagePath, href), mediaType: attribute(item, 'media-type') ?? '', properties: attribute(item, 'properties') ?? '' });
  }
  const titles = await tableOfContents(zip, manifest, spine);
  const encrypted = await encryptedEntries(zip);

  const layout = new TextLayout();
  for (const reference of childrenNamed(spine, 'itemref')) {
    const item = manifest.get(attribute(reference, 'idref') ?? '');
    // The navigation document repeats the chapters' titles; it is read for them, not as text.
    if (item === undefined || !HTML_TYPES.has(item.mediaType) || item.properties.split(/\s+/).includes('nav')) continue;
    if (encrypted.has(item.path)) throw new ConversionError('encrypted', `${LABEL} chapter ${item.path} is encrypted (DRM)`);
    const chapter = await zip.read(item.path);
    if (chapter === undefined) continue;
    const html = decodeText(chapter, { html: true });
    const text = htmlToText(html);
    if (text.length === 0) continue;
    layout.blank();
    layout.section(titles.get(item.path) ?? documentTitle(html) ?? path.basename(item.path));
    layout.block(text);
  }
  return layout.finish();
}
