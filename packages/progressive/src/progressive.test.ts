import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAdamW, flopsPerToken, llamaConfig, tf, UserError, type TrainerOptions } from '@efficientscale/core';
import { trainProgressive } from './progressive.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const trainer: TrainerOptions = {
  batchSize: 4,
  seqLen: 16,
  accumulation: 1,
  schedule: { kind: 'cosine', lr: 1e-2, warmup: 2, total: 12 },
  adamw: defaultAdamW,
  clipNorm: 1,
  seed: 5,
  evalBatches: 2,
};
const ids = Int32Array.from({ length: 2000 }, (_, i) => (i * 5 + (i % 3)) % 20);
const config = llamaConfig({ vocab: 20, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 32 });

describe('trainProgressive', () => {
  it('grows at the given fractions, keeps the LR schedule, counts FLOPs of the model at each step, and the loss falls', async () => {
    const stages = [
      { at: 0.25, grow: { layers: 2, depthMethod: 'copy' as const } },
      { at: 0.5, grow: { hidden: 16, ffn: 32, widthMethod: 'lossless' as const, seed: 1 } },
    ];
    const before = tf.memory().numTensors;
    const r = await trainProgressive({ config, trainIds: ids, valIds: ids.slice(0, 300), trainer, totalSteps: 12, stages, evalEvery: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.growths.map((g) => g.step)).toEqual([3, 6]);
    for (const g of r.growths) expect(g.report.maxLogitGap).toBeLessThan(1e-4);
    expect(r.config.num_hidden_layers).toBe(2);
    expect(r.config.hidden_size).toBe(16);
    const tokensPerStep = trainer.batchSize * trainer.seqLen;
    const perStep = (c: typeof config) => flopsPerToken(c, trainer.seqLen).trainPerToken * tokensPerStep;
    const mid = { ...config, num_hidden_layers: 2 };
    expect(r.flops).toBeCloseTo(3 * perStep(config) + 3 * perStep(mid) + 6 * perStep(r.config), -2);
    expect(r.history[2].params).toBeLessThan(r.history[3].params);
    // The cosine schedule runs across growth: step 7's LR is the schedule's value at step 6 (0-based).
    expect(r.history[6].lr).toBeLessThan(r.history[2].lr);
    expect(r.history.every((h) => Number.isFinite(h.loss))).toBe(true);
    expect(r.history[11].loss).toBeLessThan(r.history[0].loss);
    expect(r.evals.map((e) => [e.step, e.flops])).toEqual([5, 10, 12].map((s) => [s, r.history[s - 1].flops]));
    expect(r.evals[2].evalLoss).toBe(r.evalLoss);
  });

  it('starts from a 0-layer model (embeddings, norm, head) and grows it to depth exactly', async () => {
    const zero = { ...config, num_hidden_layers: 0 };
    const r = await trainProgressive({ config: zero, trainIds: ids, valIds: ids.slice(0, 300), trainer, totalSteps: 12, stages: [{ at: 0.5, grow: { layers: 2 } }] });
    expect(r.growths[0].report.maxLogitGap).toBeLessThan(1e-4);
    expect(r.history[5].params).toBeLessThan(r.history[6].params);
    expect(r.config.num_hidden_layers).toBe(2);
    expect(r.history[11].loss).toBeLessThan(r.history[0].loss);
  });

  it('depthLrScale slows only what the growth added: same losses up to the growth, different after', async () => {
    const run = (depthLrScale: boolean) =>
      trainProgressive({ config, trainIds: ids, valIds: ids.slice(0, 300), trainer, totalSteps: 10, stages: [{ at: 0.5, grow: { layers: 3, depthMethod: 'copy' }, depthLrScale }] });
    const plain = await run(false);
    const scaled = await run(true);
    expect(scaled.history.slice(0, 6).map((h) => h.loss)).toEqual(plain.history.slice(0, 6).map((h) => h.loss));
    expect(scaled.history[9].loss).not.toBe(plain.history[9].loss);
    expect(Number.isFinite(scaled.evalLoss)).toBe(true);
  });

  it('refuses stage fractions outside (0, 1)', async () => {
    await expect(trainProgressive({ config, trainIds: ids, valIds: ids, trainer, totalSteps: 4, stages: [{ at: 1, grow: { layers: 2 } }] })).rejects.toThrow(UserError);
  });
});
