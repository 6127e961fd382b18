// Cold-start probe, run in a fresh process per measurement: how long importing the embedding
// library and loading the model take on their own. Prints one JSON line.
//   node --import tsx bench/lib/probe.ts <modelDir> stage-fp32|stage-q8|ort|ort-preoptimized <optimizedPath>
import path from 'node:path';

const [modelDir, mode, optimized] = process.argv.slice(2) as [string, string, string | undefined];
const t0 = performance.now();
const result: Record<string, number> = {};
if (mode.startsWith('stage')) {
  const { createEmbedder } = await import('../../app/src/embed/embedder.js');
  const { silentLogger } = await import('../../app/src/observe/logger.js');
  const t1 = performance.now();
  result.importMs = t1 - t0;
  const embedder = await createEmbedder({ model: modelDir, device: 'cpu', dtype: mode === 'stage-q8' ? 'q8' : 'fp32', logger: silentLogger() });
  result.loadMs = performance.now() - t1;
  await embedder.dispose();
} else {
  const ort = await import('onnxruntime-node');
  const t1 = performance.now();
  result.importMs = t1 - t0;
  if (mode === 'ort-optimize') {
    // Writes the graph onnxruntime optimizes at load, so later loads can skip that work.
    await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized! });
  } else if (mode === 'ort-preoptimized') {
    await ort.InferenceSession.create(optimized!, { graphOptimizationLevel: 'disabled' });
  } else {
    await ort.InferenceSession.create(path.join(modelDir, 'onnx', 'model.onnx'), {});
  }
  result.loadMs = performance.now() - t1;
}
result.processUptimeMs = process.uptime() * 1000;
console.log(JSON.stringify(result));
