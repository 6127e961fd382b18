#!/usr/bin/env node
// Fills Node's compile cache (V8 code cache, NODE_COMPILE_CACHE) for a built app folder, so that a
// worker's start reads compiled code instead of compiling the bundle and the packages it loads
// (docs/image.md).
//
//   node scripts/compile-cache.js APP_DIR CACHE_DIR
//
// APP_DIR holds dist/ (the image's /app). Run it with the Node that will run the app, as the user
// that will run it, at the paths it will run from: Node keeps a cache folder per Node version, V8
// flags and user id, keys each entry by the file's path and contents, and ignores what does not
// match, so a stale cache costs nothing but its disk space. The Dockerfile runs it in the runtime
// stage, as the image's user.
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { readdirSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

/**
 * The converter processes' V8 flags at the default CONVERT_MAX_HEAP_MB (app/src/convert/sandbox.ts,
 * converterFlags). Node keys its cache folders by V8 flags, so converters read a folder of their
 * own, filled by a second pass of this script under these flags. A pod that changes
 * CONVERT_MAX_HEAP_MB gets converters that compile at start, as without a cache.
 */
export const CONVERTER_FLAGS = ['--max-old-space-size=384', '--max-semi-space-size=8'];
/** Argument of the second pass: only load the bundle's modules into the cache and flush it. */
const CONVERTER_PASS = '--converter-pass';

const converterPass = process.argv[2] === CONVERTER_PASS;
const [appDir, cacheDir] = process.argv.slice(converterPass ? 3 : 2).map((arg) => path.resolve(arg));
if (appDir === undefined || cacheDir === undefined) {
  console.error('usage: node scripts/compile-cache.js APP_DIR CACHE_DIR');
  process.exit(2);
}
if (typeof module.enableCompileCache !== 'function') {
  console.log(`compile-cache: Node ${process.version} has no compile cache (22.1 and later do): nothing to do`);
  process.exit(0);
}

const dist = path.join(appDir, 'dist');
const cli = path.join(dist, 'cli.js');
if (!converterPass) {
  // The entry runs its command when loaded, so it is compiled by a process of its own that only
  // asks for the version.
  const entry = spawnSync(process.execPath, [cli, '--version'], { env: { ...process.env, NODE_COMPILE_CACHE: cacheDir }, encoding: 'utf8' });
  if (entry.status !== 0) throw new Error(`compile-cache: ${cli} --version failed: ${entry.stderr}`);
}

const enabled = module.enableCompileCache(cacheDir);
if (enabled.status !== module.constants.compileCacheStatus.ENABLED) throw new Error(`compile-cache: ${enabled.message ?? 'not enabled'}`);

const jsFiles = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
  const file = path.join(dir, item.name);
  if (item.isDirectory()) return jsFiles(file);
  return item.name.endsWith('.js') && file !== cli ? [file] : [];
});
// Every other module of the bundle: the commands, the chunks they share, and those loaded on
// demand (the queue side, the converters, pdf.js with them, the model thread's module, which
// does nothing outside its thread). They only define things when loaded.
for (const file of jsFiles(dist)) await import(pathToFileURL(file).href);
// The one package the model thread loads. It loads its native library too; should that fail here
// (a build machine without a library the GPU variant links), the thread compiles that package at
// start as before.
try {
  createRequire(cli)('onnxruntime-node');
} catch (error) {
  console.log(`compile-cache: onnxruntime-node left out (${error instanceof Error ? error.message : String(error)})`);
}
module.flushCompileCache();
if (converterPass) process.exit(0);
const converters = spawnSync(process.execPath, [...CONVERTER_FLAGS, process.argv[1], CONVERTER_PASS, appDir, cacheDir], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
if (converters.status !== 0) throw new Error(`compile-cache: the converter processes' pass failed: ${converters.stderr}`);

const entries = readdirSync(cacheDir).flatMap((version) => readdirSync(path.join(cacheDir, version)));
console.log(`compile-cache: ${entries.length} modules cached for Node ${process.version} in ${cacheDir}`);
