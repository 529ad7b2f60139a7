// Profiles one training step of core's model by kernel: `node tools/profile-step.mjs [backend] [layers hidden heads ffn vocab seq batch]`.
// Needs a build (`pnpm build`). Prints the kernels that take the most time and what the step spends outside them.
import { Trainer, llamaConfig, selectBackend, tf } from '../packages/core/dist/index.js';

const [backend = 'native', ...dims] = process.argv.slice(2);
const [layers, hidden, heads, ffn, vocab, seq, batch] = dims.length ? dims.map(Number) : [4, 256, 4, 688, 512, 128, 16];
await selectBackend(backend);
const config = llamaConfig({ vocab, hidden, ffn, layers, heads, maxPositions: seq });
const ids = new Int32Array(batch * seq * 4 + 1).map((_, i) => (Math.imul(i + 1, 2654435761) >>> 8) % vocab);
const trainer = Trainer.fresh(config, ids, ids.subarray(0, batch * seq + 1), {
  batchSize: batch, seqLen: seq, accumulation: 1, seed: 0, evalBatches: 1, clipNorm: 1,
  schedule: { kind: 'constant', lr: 1e-4 }, adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 },
});
for (let i = 0; i < 2; i++) trainer.step();
const t0 = performance.now();
const info = await tf.profile(() => { trainer.step(); });
const wall = performance.now() - t0;
const byKernel = new Map();
for (const k of info.kernels) {
  const key = process.env.BY_SHAPE ? `${k.name} ${JSON.stringify(k.inputShapes)}` : k.name;
  const e = byKernel.get(key) ?? { ms: 0, n: 0 };
  e.ms += k.kernelTimeMs; e.n += 1;
  byKernel.set(key, e);
}
const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
console.log(`step ${wall.toFixed(0)} ms (profiled), kernels ${total.toFixed(0)} ms in ${info.kernels.length} calls`);
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(`${name.padEnd(process.env.BY_SHAPE ? 60 : 22)} ${e.ms.toFixed(1).padStart(8)} ms ${String(e.n).padStart(5)} calls`);
}
