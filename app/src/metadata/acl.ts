// Who may read a file, from the metadata key ACL_METADATA_KEY names. Fail-closed: when anything is
// unclear (the key is absent, its list is empty, the sidecar that may have held it is unreadable),
// the file is readable by no principal; only ACL_DEFAULT=public opens files that have no key at all.
import type { MetaValue } from './values.js';

export type AclDefault = 'private' | 'public';

export interface AccessSettings {
  /** ACL_METADATA_KEY; empty: access control off, no access fields are written. */
  readonly aclKey: string;
  readonly aclDefault: AclDefault;
}

/** The access fields every chunk of a file carries (stored as acl_principals / acl_public). */
export interface AccessFields {
  readonly principals: readonly string[];
  readonly public: boolean;
}

export const NOBODY: AccessFields = { principals: [], public: false };

/**
 * The access fields for the ACL key's merged value. `sidecarRefused`: the file has a sidecar that
 * could not be read; it may have named the principals, so nobody gets access rather than whoever
 * the tags or user metadata name.
 */
export function accessOf(value: MetaValue | undefined, settings: AccessSettings & { readonly sidecarRefused: boolean }): AccessFields {
  if (settings.sidecarRefused) return NOBODY;
  if (value === undefined) return settings.aclDefault === 'public' ? { principals: [], public: true } : NOBODY;
  const principals = typeof value === 'string' ? splitPrincipals(value) : Array.isArray(value) ? (value as readonly string[]).map((entry) => entry.trim()).filter((entry) => entry !== '') : [];
  // A number or a boolean is no principal: nobody, as for an empty list.
  return { principals: [...new Set(principals)].sort(), public: false };
}

/**
 * Principals written as text, separated by commas or spaces: S3 tag values cannot hold commas
 * (`group:finance user:ana` in a tag, `group:finance,user:ana` in user metadata).
 */
export function splitPrincipals(text: string): string[] {
  return text.split(/[\s,]+/).filter((part) => part !== '');
}
