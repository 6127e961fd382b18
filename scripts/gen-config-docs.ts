// Rewrites the generated tables (`npm run docs:config`): settings and formats in README.md, from
// app/src/config/schema.ts and app/src/convert/registry.ts, and formats in docs/operations.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { withFormats, withReference } from '../app/src/config/reference.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withReference(readFileSync(readme, 'utf8')));
const operations = new URL('../docs/operations.md', import.meta.url);
writeFileSync(operations, withFormats(readFileSync(operations, 'utf8')));
