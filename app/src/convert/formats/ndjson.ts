// NDJSON / JSON Lines: formats/json.ts reads each line.
export { convertLines as convert } from './json.js';
