// Starts loading the embedding model's session as a command begins, before the command's own code
// (transformers.js, the Elasticsearch client, the pipeline) has loaded: the load runs in the model
// thread (model-thread.ts) alongside, and the embedder takes the session when it asks for it.
// A worker's start is mostly these two, so they overlap (docs/benchmarks.md, "Cold start", has
// the figures).
import { planSession, type ModelSettings } from './session-plan.js';

export async function preloadModel(settings: ModelSettings): Promise<void> {
  const plan = planSession(settings);
  if (plan === undefined) return;
  // Imported on demand, so the bundle keeps that module in a file of its own: the thread runs
  // that file (model-thread.ts says why).
  const { preloadSession } = await import('./model-thread.js');
  preloadSession(plan.file, plan.device, plan.options);
}
