import { fileURLToPath } from 'node:url';

/** The built CLI: what `npx keda-indexer` runs. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
