// The embed stage's startup failure, in a module of its own so that the CLI's error reporting can
// tell it apart without loading transformers.js (embedder.ts does).

/**
 * The model could not be loaded. `misconfigured`: the setting that names it is at fault (empty,
 * or a folder that is not there): a configuration error, exit code 2, rather than a failure.
 */
export class EmbedderStartupError extends Error {
  override readonly name = 'EmbedderStartupError';
  readonly misconfigured: boolean;

  constructor(message: string, options?: ErrorOptions & { readonly misconfigured?: boolean }) {
    super(message, options);
    this.misconfigured = options?.misconfigured ?? false;
  }
}
