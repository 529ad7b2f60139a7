/**
 * tf.memory().numTensors and the GPU bytes stay flat while training on 'webgpu' (SwiftShader in CI).
 *
 * Every model runs 200 steps: the step loop alone (a model with no decoder layers: loss, gradient clip
 * on the device, AdamW, a cosine LR that changes every step, the asynchronous reads), one dense layer and
 * one MoE layer (routing on the device). SwiftShader's cost is per dispatch, not per element (a one-layer
 * step is 131 dispatches), so the models are as small as they go: on the 2-core machine, beside one other job, the three
 * took 34 s, 190 s and 138 s.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { llamaConfig, Trainer, type ModelConfig, type TrainerOptions } from '../../core/src/index.js';
import '../../moe/src/index.js';
import { registration, tf } from './test-util.js';

const LONG = 900_000;
const vocab = 32;
const ids = Int32Array.from({ length: 4096 }, (_, i) => ((i * 7919 + (i >> 5) * 31) % 251) % vocab);
const options = (steps: number): TrainerOptions => ({
  batchSize: 1,
  seqLen: 4,
  accumulation: 1,
  schedule: { kind: 'cosine', lr: 3e-3, warmup: 2, total: steps },
  adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 },
  clipNorm: 1,
  seed: 3,
  evalBatches: 1,
});
const layerless = llamaConfig({ vocab, hidden: 8, ffn: 8, layers: 0, heads: 2, maxPositions: 8 });
const dense = { ...layerless, num_hidden_layers: 1 };
const moe = { ...dense, architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: 2, num_experts_per_tok: 1, router_aux_loss_coef: 0.01 } as ModelConfig;

interface Footprint {
  tensors: number;
  gpuBytes: number;
  gpuBytesAllocated: number;
}
const footprint = (): Footprint => {
  const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  return { tensors: m.numTensors, gpuBytes: m.numBytesInGPU ?? NaN, gpuBytesAllocated: m.numBytesAllocatedInGPU ?? NaN };
};

/** Trains `steps` steps as `efficientscale train` does (stepAsync), returning the footprint after the first two and at the end. */
async function train(config: ModelConfig, steps: number): Promise<{ warm: Footprint; end: Footprint; losses: number[] }> {
  await tf.setBackend('webgpu');
  const t = Trainer.fresh(config, ids, ids.subarray(0, 64), options(steps));
  const losses: number[] = [];
  try {
    for (let i = 0; i < 2; i++) losses.push((await t.stepAsync()).loss);
    const warm = footprint();
    for (let i = 2; i < steps; i++) losses.push((await t.stepAsync()).loss);
    return { warm, end: footprint(), losses };
  } finally {
    t.dispose();
  }
}

afterAll(async () => {
  await tf.setBackend('cpu');
});

const cases = [
  ['the step loop (no decoder layers)', layerless, 200],
  ['a dense layer', dense, 200],
  ['an MoE layer (routing on the device)', moe, 200],
] as const;

describe.skipIf(!registration.ok)('memory while training on webgpu', () => {
  for (const [name, config, steps] of cases) {
    it(`${name}: tensors and GPU bytes (in use and allocated) are the same after step 2 and after step ${steps}`, async () => {
      const before = footprint().tensors;
      const r = await train(config, steps);
      expect(r.losses.every(Number.isFinite)).toBe(true);
      expect(r.end).toEqual(r.warm);
      expect(footprint().tensors).toBe(before);
    }, Math.max(LONG, steps * 10_000));
  }
});
