// The embedding model's option values, each listed once: the settings schema, the CLI's choices,
// the model profile's check and the types of every stage that takes them derive from these.

/** Weights a model folder may hold, by the name transformers.js gives them. */
export const EMBEDDING_DTYPES = ['fp32', 'fp16', 'q8'] as const;
export type EmbeddingDtype = (typeof EMBEDDING_DTYPES)[number];

/** Where the model runs; `auto` is decided at start-up (cuda when usable, else cpu). */
export const EMBEDDING_DEVICES = ['cpu', 'cuda', 'auto'] as const;
export type EmbeddingDevice = (typeof EMBEDDING_DEVICES)[number];
/** A device once `auto` is decided. */
export type ResolvedDevice = Exclude<EmbeddingDevice, 'auto'>;

export function isEmbeddingDtype(value: unknown): value is EmbeddingDtype {
  return typeof value === 'string' && (EMBEDDING_DTYPES as readonly string[]).includes(value);
}
