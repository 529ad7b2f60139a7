/**
 * Everything besides the training step on 'webgpu' (SwiftShader in CI), where Node cannot read a GPU
 * tensor synchronously: evaluation, generation, the in-memory transforms (grow, upcycle, low-rank) on
 * weights that live on the GPU, progressive training (growth mid-run) and the pipeline. Each gives what
 * the cpu backend gives. Models are tiny, since SwiftShader emulates the GPU on the CPU.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalBatches, evaluateLoss, forward, generate, initParams, llamaConfig, mapValues, prefetchToHost, type FfnMetrics, type ModelConfig, type Params, type TrainerOptions } from '../../core/src/index.js';
import { toLowRank } from '../../lowrank/src/index.js';
import { upcycle } from '../../moe/src/index.js';
import { growModel, trainProgressive } from '../../progressive/src/index.js';
import { parsePlan } from '../../cli/src/pipeline/plan.js';
import { runPipeline } from '../../cli/src/pipeline/run.js';
import { writeTestPlan } from '../../cli/src/pipeline/test-plans.js';
import { SYNC_READ_IN_NODE } from './register.js';
import { registration, tf } from './test-util.js';

const LONG = 900_000;
const config = llamaConfig({ vocab: 64, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 });
const ids = Int32Array.from({ length: 2048 }, (_, i) => (i * 7919 + (i >> 4) * 31) % 61);
const tokens = (batch: number, seq: number) => tf.tensor2d(Int32Array.from({ length: batch * seq }, (_, i) => (i * 13 + 5) % 64), [batch, seq], 'int32');

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** The weights computed on the GPU (as after a training step there): only an asynchronous read reaches them. */
function onGpu(params: Params): Params {
  return tf.tidy(() => mapValues(params, (p) => tf.mul(p, 1)));
}

async function logits(backend: string, c: ModelConfig, params: Params, input: tf.Tensor2D): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = forward(c, params, input);
  const values = Float32Array.from((await out.data()) as Float32Array);
  out.dispose();
  return values;
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string, tolerance: number) {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${what} element ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(tolerance * scale);
}

const flatMetrics = (m: FfnMetrics) => Object.values(m).flatMap((layers) => Object.values(layers).flat());

describe.skipIf(!registration.ok)('host work beside training on webgpu', () => {
  it('eval: the held-out loss (and an MoE model\'s expert loads) of GPU-resident weights is the cpu backend\'s (1e-5 relative)', async () => {
    await tf.setBackend('cpu');
    const dense = initParams(config, 3, 0.3);
    const moe = upcycle(config, dense, { experts: 4, topK: 2, noise: 0.1, seed: 1 });
    const batches = evalBatches(ids, 2, 16, 2);
    const want = [await evaluateLoss(config, dense, batches, 2, 16), await evaluateLoss(moe.config, moe.params, batches, 2, 16)];
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    for (const [i, [c, p]] of ([[config, dense], [moe.config, moe.params]] as const).entries()) {
      const gpu = onGpu(p);
      const got = await evaluateLoss(c, gpu, batches, 2, 16);
      tf.dispose(Object.values(gpu));
      expect(Math.abs(got.loss - want[i].loss) / want[i].loss).toBeLessThan(1e-5);
      if (i === 1) expectNear(flatMetrics(got.ffnMetrics!), flatMetrics(want[1].ffnMetrics!), 'expert loads', 1e-6);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(dense), ...Object.values(moe.params)]);
  }, LONG);

  it('generate: greedy tokens of GPU-resident weights equal the cpu backend\'s, with and without the KV cache, and leave no tensors behind', async () => {
    await tf.setBackend('cpu');
    const params = initParams(config, 4, 0.3);
    const o = { maxNewTokens: 6, temperature: 0, topK: 0, seed: 0 };
    const want = await generate(config, params, [5, 9, 2], o);
    await tf.setBackend('webgpu');
    const gpu = onGpu(params);
    const before = tf.memory().numTensors;
    expect(await generate(config, gpu, [5, 9, 2], o)).toEqual(want);
    expect(await generate(config, gpu, [5, 9, 2], { ...o, cache: false })).toEqual(want);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(gpu), ...Object.values(params)]);
  }, LONG);

  it('grow, upcycle (k-means routers: a tapped forward) and low-rank (activation-aware SVD) on GPU-resident weights give the cpu backend\'s tensors exactly, and keep the function on webgpu', async () => {
    await tf.setBackend('cpu');
    const params = initParams(config, 5, 0.3);
    const probe = tokens(2, 8);
    const transforms = {
      grown: (p: Params) => growModel(config, p, { hidden: 24, layers: 3, widthMethod: 'lossless', depthMethod: 'zero', seed: 2 }),
      upcycled: (p: Params) => upcycle(config, p, { experts: 4, topK: 2, routerInit: 'kmeans', calibrationTokens: probe, seed: 2 }),
      lowrank: (p: Params) => toLowRank(config, p, { rank: 16, force: true, keepFirstDense: false, aware: { tokens: probe }, probe }),
    };
    const onCpu = mapValues(transforms, (t) => t(params));
    const base = await logits('webgpu', config, params, probe);
    const gpu = onGpu(params);
    // Without the read first, the one-line reason (not a missing OffscreenCanvas deep inside tfjs).
    expect(() => transforms.grown(gpu)).toThrow(SYNC_READ_IN_NODE);
    for (const [name, transform] of Object.entries(transforms)) {
      await tf.setBackend('webgpu');
      // what host work reads: one asynchronous read (the probe went back to the GPU for the last logits)
      await prefetchToHost([...Object.values(gpu), probe]);
      const before = tf.memory().numTensors;
      const out = transform(gpu);
      expect(tf.getBackend(), `${name}: the GPU backend is active again`).toBe('webgpu');
      expect(tf.memory().numTensors - before).toBe(Object.keys(out.params).length);
      const want = onCpu[name as keyof typeof transforms];
      expect(Object.keys(out.params).sort()).toEqual(Object.keys(want.params).sort());
      for (const [k, t] of Object.entries(out.params)) expect(await t.data(), `${name} ${k}`).toEqual(await want.params[k].data());
      // full rank kept: the low-rank model is exact up to the SVD's rounding
      expectNear(await logits('webgpu', out.config, out.params, probe), base, `${name} logits`, name === 'lowrank' ? 1e-3 : 1e-4);
      tf.dispose(Object.values(out.params));
    }
    await tf.setBackend('cpu');
    tf.dispose([probe, ...Object.values(gpu), ...Object.values(params), ...Object.values(onCpu).flatMap((r) => Object.values(r.params))]);
  }, LONG);

  it('progressive training: a growth mid-run (moments carried) gives the cpu backend\'s losses (1e-3 relative) and leaves no tensors behind', async () => {
    const trainer: TrainerOptions = {
      batchSize: 1,
      seqLen: 8,
      accumulation: 1,
      schedule: { kind: 'constant', lr: 1e-2, warmup: 0 },
      adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
      clipNorm: 1,
      seed: 7,
      evalBatches: 1,
    };
    const small = { ...config, num_hidden_layers: 1 };
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const r = await trainProgressive({ config: small, trainIds: ids, valIds: ids.subarray(0, 200), trainer, totalSteps: 4, stages: [{ at: 0.5, grow: { layers: 2, depthMethod: 'copy' } }], evalEvery: 2 });
      expect(tf.memory().numTensors, backend).toBe(before);
      return r;
    };
    const want = await run('cpu');
    const got = await run('webgpu');
    expect(got.growths.map((g) => g.step)).toEqual([2]);
    expect(got.growths[0].report.maxLogitGap).toBeLessThan(1e-4);
    got.history.forEach((h, i) => expect(Math.abs(h.loss - want.history[i].loss) / want.history[i].loss, `step ${h.step}`).toBeLessThan(1e-3));
    expect(Math.abs(got.evalLoss - want.evalLoss) / want.evalLoss).toBeLessThan(1e-3);
  }, LONG);

  it('the pipeline: train, grow, upcycle, train, low-rank, train gives the cpu backend\'s stage losses (1e-3 relative)', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-webgpu-pipeline-'));
    const stages = [
      { type: 'train', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 2 },
      { type: 'grow', hidden: 24, layers: 2, widthMethod: 'fpi', depthMethod: 'zero' },
      { type: 'upcycle', experts: 4, topK: 2, routerInit: 'kmeans', layers: [0] },
      { type: 'train', steps: 1 },
      { type: 'lowrank', rank: 8 },
      { type: 'train', steps: 1 },
    ];
    const settings = { tokenizer: 'byte', batch: 1, seq: 8, evalBatches: 1, evalsPerStage: 1, checkpointsPerStage: 1, lr: 0.01, schedule: { kind: 'constant' }, stages };
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const dir = path.join(root, backend);
      const plan = parsePlan(JSON.parse(fs.readFileSync(writeTestPlan(dir, settings), 'utf8')), 'plan.json', dir);
      return runPipeline(plan, { log: () => {} });
    };
    try {
      const want = await run('cpu');
      const got = await run('webgpu');
      expect(got.complete).toBe(true);
      expect(got.stages.map((s) => s.label)).toEqual(want.stages.map((s) => s.label));
      got.stages.forEach((s, i) => {
        const w = want.stages[i];
        for (const key of ['train_loss', 'eval_loss'] as const) {
          if (w[key] === undefined) continue;
          expect(Math.abs(s[key]! - w[key]!) / w[key]!, `${s.label} ${key}`).toBeLessThan(1e-3);
        }
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, LONG);
});
