// Builds the CLI: app/src bundled by esbuild into dist/ (`node scripts/build.js [--outdir DIR]`).
//
// Why a bundle and not tsc's one file per module: a worker's start is mostly module loading. The
// worker loads over 400 files before it is ready (the Elasticsearch client and undici, pino,
// prom-client, convict, transformers.js and our own modules), each found, read and compiled on its
// own. On a quiet machine the bundle reaches /readyz ~0.15 s sooner; on a busy one, where every
// one of those hops waits for a core, ~0.3 s sooner (docs/benchmarks.md, "Cold start").
// Type checking is not done here: `npm run typecheck` (and the test command's static suite) does it.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: path.join(root, 'dist') } } });
const outdir = path.resolve(values.outdir);
rmSync(outdir, { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'app/src/cli.ts',
    // A named entry, so the benchmark can time importing everything `worker` loads before it starts.
    'commands/worker': 'app/src/commands/worker.ts',
  },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  // Commands and converters stay behind their dynamic imports: `--help` and a txt-only worker never
  // load pdfjs, the Word converter or the backfill code.
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // No source maps: the bundle is not minified, so stack traces name real functions and lines, and
  // the maps would add 12 MB to the image.
  legalComments: 'linked',
  logLevel: 'warning',
  external: [
    // A native addon that finds its binary next to its own files.
    'onnxruntime-node',
    // The one copy onnxruntime-node registers its backend in and checks tensors against.
    'onnxruntime-common',
    // Loads its worker module, fonts and character maps by path from its own package.
    'pdfjs-dist',
    // Starts its engine thread from a script path inside its own package (convert/ocr/engine.ts).
    'tesseract.js',
    // A native addon (Skia) that finds its binary in its platform package.
    '@napi-rs/canvas',
  ],
  alias: {
    // transformers.js imports sharp (libvips) at load for image inputs; the worker embeds text only.
    // See the stub for why it is not simply left out.
    sharp: './app/src/embed/no-image-library.ts',
  },
  // Bundled CommonJS packages call require() for Node's built-ins; ESM has no require of its own.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
});
