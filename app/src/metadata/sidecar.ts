// A metadata sidecar: the object `<key>.metadata.json` next to a file, in Bedrock Knowledge Bases'
// format `{"metadataAttributes": {...}}` (plain values, or Bedrock's typed
// `{"value": {"type": "STRING", "stringValue": "…"}}` form) or as a plain `{...}` object. A sidecar
// that cannot be read is refused as a whole, with the reason: the file is indexed without it.
import { valueProblem, type MetaValue } from './values.js';

export const SIDECAR_SUFFIX = '.metadata.json';
/** Sidecars are small: a larger one is refused unread (the fetch stops at this many bytes). */
export const SIDECAR_MAX_BYTES = 64 * 1024;
const MAX_ATTRIBUTES = 200;

export function isSidecarKey(key: string): boolean {
  return key.endsWith(SIDECAR_SUFFIX) && key.length > SIDECAR_SUFFIX.length;
}

/** The key of the file a sidecar describes. */
export function documentKeyOf(sidecarKey: string): string {
  return sidecarKey.slice(0, -SIDECAR_SUFFIX.length);
}

export function sidecarKeyOf(documentKey: string): string {
  return `${documentKey}${SIDECAR_SUFFIX}`;
}

export type ParsedSidecar = { readonly ok: true; readonly attributes: Readonly<Record<string, MetaValue>> } | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): ParsedSidecar => ({ ok: false, reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Bedrock's typed attribute value, `{"type": "NUMBER", "numberValue": 3}`, as a plain value. */
function typedValue(value: Record<string, unknown>): unknown {
  switch (value.type) {
    case 'STRING':
      return value.stringValue;
    case 'NUMBER':
      return value.numberValue;
    case 'BOOLEAN':
      return value.booleanValue;
    case 'STRING_LIST':
      return value.stringListValue;
    default:
      return undefined;
  }
}

export function parseSidecar(bytes: Uint8Array): ParsedSidecar {
  if (bytes.byteLength > SIDECAR_MAX_BYTES) return refuse(`larger than ${SIDECAR_MAX_BYTES} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return refuse(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isRecord(parsed)) return refuse('not a JSON object');
  const body = 'metadataAttributes' in parsed ? parsed.metadataAttributes : parsed;
  if (!isRecord(body)) return refuse('metadataAttributes is not an object');
  const entries = Object.entries(body);
  if (entries.length > MAX_ATTRIBUTES) return refuse(`more than ${MAX_ATTRIBUTES} attributes`);
  const attributes: Record<string, MetaValue> = {};
  for (const [key, raw] of entries) {
    const value = isRecord(raw) && isRecord(raw.value) ? typedValue(raw.value) : raw;
    const problem = valueProblem(value);
    if (problem !== undefined) return refuse(`attribute ${JSON.stringify(key)} is ${problem}`);
    attributes[key] = value as MetaValue;
  }
  return { ok: true, attributes };
}
