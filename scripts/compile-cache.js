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

const [appDir, cacheDir] = process.argv.slice(2).map((arg) => path.resolve(arg));
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
// The entry runs its command when loaded, so it is compiled by a process of its own that only asks
// for the version.
const entry = spawnSync(process.execPath, [cli, '--version'], { env: { ...process.env, NODE_COMPILE_CACHE: cacheDir }, encoding: 'utf8' });
if (entry.status !== 0) throw new Error(`compile-cache: ${cli} --version failed: ${entry.stderr}`);

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

const entries = readdirSync(cacheDir).flatMap((version) => readdirSync(path.join(cacheDir, version)));
console.log(`compile-cache: ${entries.length} modules cached for Node ${process.version} in ${cacheDir}`);
