// How the model's files reach onnxruntime: downloaded from a hub into the cache folder, and handed
// over by path, never read into JavaScript memory (app/src/embed/model-files.ts says why).
import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { env } from '@huggingface/transformers';
import { cosineSimilarity, createEmbedder } from '../../app/src/embed/embedder.js';
import { silentLogger } from '../../app/src/observe/logger.js';

const modelPath = process.env.EMBEDDING_MODEL ?? '';
const logger = silentLogger();

/** A stand-in for the Hugging Face hub: serves the local model folder as `<id>/resolve/main/<file>`. */
async function startHub(id: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const prefix = `/${id}/resolve/main/`;
    const file = request.url?.startsWith(prefix) ? path.join(modelPath, decodeURIComponent(request.url.slice(prefix.length))) : '';
    if (file === '' || !file.startsWith(modelPath + path.sep) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(statSync(file).size) });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { server, url: `http://127.0.0.1:${address.port}/`, requests };
}

test('a hub id downloads into the cache folder, in the layout an image bakes, and loads from it', async () => {
  const hub = await startHub('acme/minilm');
  const remoteHost = env.remoteHost;
  env.remoteHost = hub.url;
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'ki-model-download-'));
  try {
    const embedder = await createEmbedder({ model: 'acme/minilm', device: 'cpu', dtype: 'fp32', cacheDir, logger });
    const cached = path.join(cacheDir, 'acme', 'minilm', 'onnx', 'model.onnx');
    assert.ok(hub.requests.includes('/acme/minilm/resolve/main/onnx/model.onnx'), `requests: ${hub.requests.join(', ')}`);
    assert.equal(statSync(cached).size, statSync(path.join(modelPath, 'onnx', 'model.onnx')).size);
    assert.deepEqual(JSON.parse(readFileSync(path.join(cacheDir, 'acme', 'minilm', 'config.json'), 'utf8')), JSON.parse(readFileSync(path.join(modelPath, 'config.json'), 'utf8')));
    const [weather, sunny] = await embedder.embed(['The weather is lovely today.', "It's so sunny outside!"], 'passage');
    assert.ok(weather && sunny);
    assert.ok(Math.abs(cosineSimilarity(weather, sunny) - 0.666) < 0.005);
    await embedder.dispose();

    // Second start: everything from the cache folder, nothing asked of the hub.
    const before = hub.requests.length;
    const again = await createEmbedder({ model: 'acme/minilm', device: 'cpu', dtype: 'fp32', cacheDir, logger });
    await again.dispose();
    assert.equal(hub.requests.length, before, `second load asked the hub for ${hub.requests.slice(before).join(', ')}`);
  } finally {
    env.remoteHost = remoteHost;
    hub.server.close();
  }
});

test('the ONNX file goes to onnxruntime by path: JavaScript never opens it', async () => {
  const opened: string[] = [];
  const original = fs.createReadStream;
  // transformers.js reads files through the node:fs default export: watch what it opens.
  fs.createReadStream = (file: fs.PathLike, options?: Parameters<typeof original>[1]) => {
    opened.push(String(file));
    return original(file, options);
  };
  try {
    const embedder = await createEmbedder({ model: modelPath, device: 'cpu', dtype: 'fp32', logger });
    await embedder.dispose();
  } finally {
    fs.createReadStream = original;
  }
  assert.deepEqual(
    opened.filter((file) => /\.onnx/.test(file)),
    [],
  );
});
