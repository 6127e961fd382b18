// Reading ZIP-based formats (DOCX, XLSX, PPTX, ODF, EPUB) without trusting their headers. A ZIP
// says how large each entry inflates to, and a hostile one lies: a 7 MB file that declares 1,000
// bytes can inflate to gigabytes. So entries are inflated as streams (yauzl), and the bytes that
// actually come out are counted against two limits as they come: the whole file's budget
// (maxInflatedBytes) and, for entries past 1 MiB, a compression-ratio cap (maxInflateRatio). The
// first byte over either ends the inflate, whatever was declared.
//
// yauzl is chosen over JSZip and adm-zip because it reads the central directory and streams one
// entry at a time; the other two inflate whole entries into memory before a caller sees a byte.
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ConversionError } from './types.js';

export interface ZipLimits {
  readonly maxInflatedBytes: number;
  readonly maxInflateRatio: number;
}

/** Entries up to this size are not held to the ratio cap: small XML parts compress very well. */
const RATIO_FREE_BYTES = 1024 * 1024;
/** More entries than any office file has; a ZIP of millions of empty entries is a bomb of its own. */
const MAX_ENTRIES = 100_000;

function openZip(bytes: Uint8Array): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, validateEntrySizes: true }, (error, zip) => {
      if (error) reject(error);
      else resolve(zip);
    });
  });
}

function listEntries(zip: yauzl.ZipFile, label: string): Promise<Map<string, yauzl.Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, yauzl.Entry>();
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entries.size >= MAX_ENTRIES) {
        reject(new ConversionError('too_large', `${label} has more than ${MAX_ENTRIES} ZIP entries`));
        return;
      }
      // Folders carry no content.
      if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on('end', () => {
      resolve(entries);
    });
    zip.on('error', reject);
    zip.readEntry();
  });
}

function openStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) reject(error);
      else resolve(stream);
    });
  });
}

/** A ZIP archive whose entries are read under one inflate budget. */
export class BoundedZip {
  private inflated = 0;

  private constructor(
    private readonly zip: yauzl.ZipFile,
    private readonly entries: ReadonlyMap<string, yauzl.Entry>,
    /** What the file is, for messages: "DOCX", "XLSX"… */
    readonly label: string,
    private readonly limits: ZipLimits,
  ) {}

  /** Reads the central directory (nothing is inflated); a file that is no ZIP is `corrupt`. */
  static async open(bytes: Uint8Array, label: string, limits: ZipLimits): Promise<BoundedZip> {
    try {
      const zip = await openZip(bytes);
      return new BoundedZip(zip, await listEntries(zip, label), label, limits);
    } catch (error) {
      if (error instanceof ConversionError) throw error;
      throw new ConversionError('corrupt', `${label} is not a readable ZIP archive: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  /** Entry names in the archive's order. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** The entry's bytes, or undefined when there is no such entry. */
  async read(name: string): Promise<Buffer | undefined> {
    const entry = this.entries.get(name);
    if (entry === undefined) return undefined;
    const parts: Buffer[] = [];
    await this.inflate(entry, (part) => parts.push(part));
    return Buffer.concat(parts);
  }

  /** The entry as UTF-8 text (the XML parts of every ZIP-based format are UTF-8). */
  async readText(name: string): Promise<string | undefined> {
    return (await this.read(name))?.toString('utf8');
  }

  /**
   * Inflates every entry and drops the bytes: proves the whole archive stays within the limits
   * before a library that inflates it in memory (mammoth) is given it.
   */
  async checkAll(): Promise<void> {
    for (const entry of this.entries.values()) await this.inflate(entry, () => undefined);
  }

  private async inflate(entry: yauzl.Entry, take: (part: Buffer) => void): Promise<void> {
    const { maxInflatedBytes, maxInflateRatio } = this.limits;
    const ratioCap = Math.max(RATIO_FREE_BYTES, entry.compressedSize * maxInflateRatio);
    // Refused from the headers when they already say so; counted below when they lie.
    if (entry.uncompressedSize > ratioCap) throw this.ratioError(entry);
    if (this.inflated + entry.uncompressedSize > maxInflatedBytes) throw this.budgetError(entry);
    let stream: Readable;
    try {
      stream = await openStream(this.zip, entry);
    } catch (error) {
      throw new ConversionError('corrupt', `${this.label} entry ${entry.fileName} cannot be read: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    let produced = 0;
    try {
      for await (const part of stream as AsyncIterable<Buffer>) {
        produced += part.length;
        this.inflated += part.length;
        if (produced > ratioCap) throw this.ratioError(entry);
        if (this.inflated > maxInflatedBytes) throw this.budgetError(entry);
        take(part);
      }
    } catch (error) {
      if (error instanceof ConversionError) throw error;
      // yauzl's own size check ("too many bytes in the stream") lands here too: the entry
      // inflates to more than it declares.
      throw new ConversionError('corrupt', `${this.label} entry ${entry.fileName} cannot be inflated: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    } finally {
      stream.destroy();
    }
  }

  private ratioError(entry: yauzl.Entry): ConversionError {
    return new ConversionError(
      'too_large',
      `${this.label} entry ${entry.fileName} inflates to more than ${this.limits.maxInflateRatio} times its compressed ${entry.compressedSize} bytes (CONVERT_MAX_INFLATE_RATIO; decompression bomb?)`,
    );
  }

  private budgetError(entry: yauzl.Entry): ConversionError {
    return new ConversionError(
      'too_large',
      `${this.label} inflates past ${this.limits.maxInflatedBytes} bytes at entry ${entry.fileName} (CONVERT_MAX_INFLATED_BYTES; decompression bomb?)`,
    );
  }
}
