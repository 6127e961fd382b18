// EMBEDDING_DEVICE on a machine without a usable CUDA provider (these CI machines: no GPU and the
// CUDA provider libraries are not installed). Skipped where CUDA does load, since then there is
// no failure to observe.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createEmbedder, EmbedderStartupError } from '../../app/src/embed/embedder.js';
import { createLogger, silentLogger } from '../../app/src/observe/logger.js';

const model = process.env.EMBEDDING_MODEL ?? '';

async function cudaLoads(): Promise<boolean> {
  try {
    const embedder = await createEmbedder({ model, device: 'cuda', dtype: 'fp32', logger: silentLogger() });
    await embedder.dispose();
    return true;
  } catch {
    return false;
  }
}

const skip = (await cudaLoads()) ? 'CUDA is usable on this machine' : false;

test('cuda without a usable provider is a startup error that says how to fix it', { skip }, async () => {
  await assert.rejects(
    createEmbedder({ model, device: 'cuda', dtype: 'fp32', logger: silentLogger() }),
    (error: unknown) => {
      assert.ok(error instanceof EmbedderStartupError);
      assert.match(error.message, /EMBEDDING_DEVICE=cuda/);
      assert.match(error.message, /ONNXRUNTIME_NODE_INSTALL=cuda12/);
      return true;
    },
  );
});

test('auto falls back to CPU with a logged warning', { skip }, async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const embedder = await createEmbedder({ model, device: 'auto', dtype: 'fp32', logger: createLogger({ level: 'warn', destination: sink }) });
  try {
    assert.equal(embedder.device, 'cpu');
    const [vector] = await embedder.embed(['still works'], 'passage');
    assert.equal(vector?.length, 384);
    const warning = lines.map((line) => JSON.parse(line) as { level: number; msg: string }).find((l) => l.level === 40);
    assert.match(warning?.msg ?? '', /falling back to CPU/);
  } finally {
    await embedder.dispose();
  }
});
