/**
 * Training on 'webgpu' (SwiftShader in CI) against the native backend (cpu where native is not built):
 * the tiny preset's model and a Mixtral-style MoE give the same losses for 20 steps (1e-3 relative); a
 * grown and an upcycled model keep their logits (1e-4 of the logits' scale). Batches are smaller than the preset's (1 × 16 tokens), since SwiftShader emulates
 * the GPU on the CPU.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { forward, initParams, llamaConfig, selectBackend, Trainer, type ModelConfig, type Params, type TrainerOptions } from '../../core/src/index.js';
import { upcycle } from '../../moe/src/index.js';
import { growModel } from '../../progressive/src/index.js';
import { registration, tf } from './test-util.js';

const tiny = llamaConfig({ vocab: 256, hidden: 64, ffn: 172, layers: 2, heads: 4, maxPositions: 64 });
const options = (batchSize: number, seqLen: number): TrainerOptions => ({
  batchSize,
  seqLen,
  accumulation: 1,
  schedule: { kind: 'cosine', lr: 3e-3, warmup: 3, total: 20 },
  adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 },
  clipNorm: 1,
  seed: 11,
  evalBatches: 1,
});
// SwiftShader on a 2-core machine: minutes, not the suite's default 2 per test.
const LONG = 900_000;
const ids = Int32Array.from({ length: 4096 }, (_, i) => (i * 7919 + (i >> 5) * 31) % 251);

let reference = 'cpu';
afterAll(async () => {
  await tf.setBackend('cpu');
});

async function losses(backend: string, config: ModelConfig, steps: number, o: TrainerOptions): Promise<number[]> {
  await tf.setBackend(backend);
  const t = Trainer.fresh(config, ids, ids.subarray(0, 600), o);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push((await t.stepAsync()).loss);
  t.dispose();
  return out;
}

function expectLossesClose(got: number[], want: number[]) {
  got.forEach((l, i) => expect(Math.abs(l - want[i]) / Math.abs(want[i]), `step ${i + 1}: webgpu ${l}, ${reference} ${want[i]}`).toBeLessThan(1e-3));
}

describe.skipIf(!registration.ok)('training on webgpu', () => {
  it('the tiny preset\'s model: the reference backend\'s losses for 20 steps (1e-3 relative)', async () => {
    reference = (await selectBackend('auto')).name; // native where built, else cpu; never webgpu on SwiftShader
    const want = await losses(reference, tiny, 20, options(1, 16));
    const got = await losses('webgpu', tiny, 20, options(1, 16));
    expectLossesClose(got, want);
    expect(got[19]).toBeLessThan(got[0]);
  }, LONG);

  it('a Mixtral-style MoE (4 experts, top-2, capacity 1.0): the same, with routing on the GPU', async () => {
    const moe: ModelConfig = {
      ...llamaConfig({ vocab: 256, hidden: 32, ffn: 64, layers: 2, heads: 4, maxPositions: 64 }),
      architectures: ['MixtralForCausalLM'],
      model_type: 'mixtral',
      num_local_experts: 4,
      num_experts_per_tok: 2,
      router_aux_loss_coef: 0.02,
      efficientscale: { ffn_options: { moe: { capacity_factor: 1.0 } } },
    } as ModelConfig;
    const want = await losses(reference, moe, 20, options(1, 16));
    const got = await losses('webgpu', moe, 20, options(1, 16));
    expectLossesClose(got, want);
  }, LONG);

  it('a grown and an upcycled model keep their logits on webgpu (1e-4 of the logits\' scale)', async () => {
    await tf.setBackend('cpu');
    const params = initParams(tiny, 5);
    const grown = growModel(tiny, params, { hidden: 96, layers: 3, widthMethod: 'lossless', depthMethod: 'zero' } as Parameters<typeof growModel>[2]);
    const up = upcycle(tiny, params, { experts: 4, topK: 2 });
    const tokens = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 13) % 256);
    const logitsOn = async (backend: string, config: ModelConfig, p: Params) => {
      await tf.setBackend(backend);
      const copy = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, tf.tensor(v.dataSync().slice(), v.shape, v.dtype)]));
      const out = forward(config, copy, tf.tensor2d(tokens, [2, 16], 'int32'));
      const values = Float32Array.from((await out.data()) as Float32Array);
      tf.dispose([out, ...Object.values(copy)]);
      return values;
    };
    const base = await logitsOn('cpu', tiny, params);
    for (const [name, m] of [['grown', grown], ['upcycled', up]] as const) {
      const got = await logitsOn('webgpu', m.config, m.params);
      const scale = Math.max(...base.map(Math.abs));
      got.forEach((v, i) => expect(Math.abs(v - base[i]), `${name} logit ${i}`).toBeLessThanOrEqual(1e-4 * scale));
    }
  }, LONG);
});
