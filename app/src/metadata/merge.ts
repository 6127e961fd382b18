// From what S3 holds about a file (user metadata, tags, sidecar) to the fields its chunks carry:
// keys normalised, sources merged (user metadata < tags < sidecar), declared types applied, and the
// access fields derived fail-closed (acl.ts).
import { accessOf, type AccessFields, type AccessSettings } from './acl.js';
import type { ParsedSidecar } from './sidecar.js';
import { coerce, fingerprintOf, MetadataTypeError, normaliseKey, RESERVED_NAMES, type DeclaredFields, type MetaFields, type MetaValue } from './values.js';

export interface MergeSettings extends AccessSettings {
  /** METADATA_FIELDS: fields whose type is fixed. */
  readonly fields: DeclaredFields;
}

/** What was read for one file; a source left out was not read (its setting is off). */
export interface MetadataSources {
  /** The object's user metadata (x-amz-meta-*), as the SDK returns it. */
  readonly objectMetadata?: Readonly<Record<string, string>>;
  readonly tags?: Readonly<Record<string, string>>;
  /** 'absent': there is no sidecar object. */
  readonly sidecar?: ParsedSidecar | 'absent';
}

/** The file's metadata, as every one of its chunks carries it. */
export interface FileMetadata {
  readonly meta: MetaFields;
  /** Present when ACL_METADATA_KEY is set. */
  readonly access?: AccessFields;
  /** Keys dropped, a sidecar refused: for the file's log line. */
  readonly warnings: readonly string[];
  /** Of meta and access: equal fingerprints, equal fields (kept on the file's record). */
  readonly fingerprint: string;
}

/** A file without metadata sources (a local file, or every source off). */
export function noMetadata(settings: MergeSettings): FileMetadata {
  return mergeMetadata({}, settings);
}

/**
 * Merges the sources. A declared field whose value from user metadata or tags does not fit its type
 * throws MetadataTypeError (the file cannot be indexed as configured); a sidecar value that does
 * not fit refuses the sidecar, like any other bad sidecar.
 */
export function mergeMetadata(sources: MetadataSources, settings: MergeSettings): FileMetadata {
  const warnings: string[] = [];
  const merged: Record<string, MetaValue> = {};
  const aclKey = settings.aclKey === '' ? undefined : normaliseKey(settings.aclKey);
  let sidecarRefused = false;

  const add = (source: string, attributes: Readonly<Record<string, MetaValue>>, strict: boolean): Record<string, MetaValue> | string => {
    const out: Record<string, MetaValue> = {};
    for (const [raw, value] of Object.entries(attributes)) {
      const key = normaliseKey(raw);
      if (key === undefined) {
        warnings.push(`${source}: key ${JSON.stringify(raw)} has no usable name; dropped`);
        continue;
      }
      if (key === aclKey) {
        out[key] = value;
        continue;
      }
      if (RESERVED_NAMES.has(key)) {
        warnings.push(`${source}: key ${JSON.stringify(raw)} is a reserved field name; dropped`);
        continue;
      }
      const type = settings.fields[key];
      if (type === undefined) {
        out[key] = value;
        continue;
      }
      const fitted = coerce(value, type);
      if (fitted === undefined) {
        if (strict) throw new MetadataTypeError(key, type, source);
        return `attribute ${key} is declared ${type} (METADATA_FIELDS), but its value is not one`;
      }
      out[key] = fitted;
    }
    return out;
  };

  if (sources.objectMetadata !== undefined) Object.assign(merged, add('user metadata', sources.objectMetadata, true));
  if (sources.tags !== undefined) Object.assign(merged, add('tags', sources.tags, true));
  const { sidecar } = sources;
  if (sidecar !== undefined && sidecar !== 'absent') {
    const fields = sidecar.ok ? add('sidecar', sidecar.attributes, false) : sidecar.reason;
    if (typeof fields === 'string') {
      sidecarRefused = true;
      warnings.push(`sidecar refused, file indexed without it: ${fields}`);
    } else {
      Object.assign(merged, fields);
    }
  }

  let access: AccessFields | undefined;
  if (aclKey !== undefined) {
    access = accessOf(merged[aclKey], { ...settings, sidecarRefused });
  }
  const meta: MetaFields = Object.fromEntries(Object.entries(merged).filter(([key]) => key !== aclKey));
  return { meta, ...(access === undefined ? {} : { access }), warnings, fingerprint: fingerprintOf({ meta, access }) };
}
