// Stands in for sharp in the built CLI (scripts/build.js aliases it here). transformers.js imports
// sharp when it loads, only to read image inputs, and refuses to load if the import is empty; the
// worker embeds text, so loading libvips and its dependencies would slow every start for nothing.
// Anything that does call it gets a clear error instead of a missing method.
export default function sharp(): never {
  throw new Error('keda-indexer embeds text only: image inputs are not supported (sharp is not part of the build).');
}
