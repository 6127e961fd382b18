// Rewrites the README's settings table from app/src/config/schema.ts (`npm run docs:config`).
import { readFileSync, writeFileSync } from 'node:fs';
import { withReference } from '../app/src/config/reference.js';

const readme = new URL('../README.md', import.meta.url);
writeFileSync(readme, withReference(readFileSync(readme, 'utf8')));
