// The second real model of the suite, e5-small-v2, as scripts/fetch-model provides it (pinned,
// cached by version), in the folder beside EMBEDDING_MODEL's. `search` loads it only when it is
// EMBEDDING_MODEL or on SEARCH_ALLOWED_MODELS (commands/query-model.ts).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export function minilmModel(): string {
  const model = process.env.EMBEDDING_MODEL ?? '';
  if (!path.isAbsolute(model)) throw new Error('EMBEDDING_MODEL must be the absolute path printed by scripts/fetch-model');
  return model;
}

/** Fetches (or verifies the cached) e5-small-v2 folder next to the MiniLM one and returns its path. */
export function e5Model(): string {
  const dest = path.join(path.dirname(minilmModel()), 'e5-small-v2');
  return execFileSync(path.join(root, 'scripts', 'fetch-model'), ['--model', 'e5-small-v2', '--dest', dest], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}
