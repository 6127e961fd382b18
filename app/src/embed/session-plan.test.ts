import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { affinityThreads, planSession, threadOptions } from './session-plan.js';

/** A model folder holding only the given weights files (empty: only their paths matter here). */
function modelFolder(parent: string, name: string, files: readonly string[], profile?: object): string {
  const folder = path.join(parent, name);
  mkdirSync(path.join(folder, 'onnx'), { recursive: true });
  for (const file of files) writeFileSync(path.join(folder, file), '');
  if (profile !== undefined) writeFileSync(path.join(folder, 'keda-indexer.json'), JSON.stringify(profile));
  return folder;
}

test('a local folder plans the weights file of the configured dtype, on the configured device', () => {
  const folder = modelFolder(mkdtempSync(path.join(tmpdir(), 'ki-plan-')), 'all-MiniLM-L6-v2', ['onnx/model.onnx', 'onnx/model_quantized.onnx']);
  assert.deepEqual(planSession({ model: folder, device: 'cpu', dtype: 'fp32', threads: 3 }), {
    file: path.join(folder, 'onnx/model.onnx'),
    device: 'cpu',
    options: { intraOpNumThreads: 3, interOpNumThreads: 1 },
  });
  assert.equal(planSession({ model: folder, device: 'cuda', dtype: 'q8' })?.file, path.join(folder, 'onnx/model_quantized.onnx'));
});

test("a folder without the configured weights plans the ones its profile names, as the embedder loads them", () => {
  const folder = modelFolder(mkdtempSync(path.join(tmpdir(), 'ki-plan-')), 'e5-small-v2', ['onnx/model_quantized.onnx'], { dtype: 'q8' });
  assert.equal(planSession({ model: folder, device: 'cpu', dtype: 'fp32' })?.file, path.join(folder, 'onnx/model_quantized.onnx'));
});

test('a hub id plans the file in EMBEDDING_CACHE_DIR, where the model file cache finds it', () => {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'ki-plan-cache-'));
  modelFolder(path.join(cacheDir, 'Xenova'), 'all-MiniLM-L6-v2', ['onnx/model.onnx']);
  assert.equal(planSession({ model: 'Xenova/all-MiniLM-L6-v2', device: 'cpu', dtype: 'fp32', cacheDir })?.file, path.join(cacheDir, 'Xenova/all-MiniLM-L6-v2/onnx/model.onnx'));
});

test('no plan where the session cannot be known before transformers.js asks', () => {
  const folder = modelFolder(mkdtempSync(path.join(tmpdir(), 'ki-plan-')), 'm', ['onnx/model.onnx']);
  assert.equal(planSession({ model: folder, device: 'auto', dtype: 'fp32' }), undefined, 'auto may fall back from CUDA to CPU');
  assert.equal(planSession({ model: folder, device: 'cpu', dtype: 'fp16' }), undefined, 'weights not in the folder');
  assert.equal(planSession({ model: 'Xenova/all-MiniLM-L6-v2', device: 'cpu', dtype: 'fp32' }), undefined, "no cache folder: transformers.js's default");
  assert.equal(planSession({ model: 'Xenova/all-MiniLM-L6-v2', device: 'cpu', dtype: 'fp32', cacheDir: path.dirname(folder) }), undefined, 'not downloaded yet');
});

test('EMBEDDING_THREADS 0 follows the CPU affinity, and leaves onnxruntime its default where every core is allowed', () => {
  assert.deepEqual(threadOptions(2), { intraOpNumThreads: 2, interOpNumThreads: 1 });
  const fromAffinity = affinityThreads();
  assert.deepEqual(threadOptions(0), fromAffinity > 0 ? { intraOpNumThreads: fromAffinity, interOpNumThreads: 1 } : {});
  assert.deepEqual(threadOptions(undefined), threadOptions(0));
});
