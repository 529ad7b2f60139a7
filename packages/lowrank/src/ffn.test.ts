import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf, llamaConfig, paramShapes, countParams, initParams, forward, flopsPerToken, Trainer, splitTrainVal, ByteTokenizer, defaultAdamW } from '@efficientscale/core';
import { lowrankConfig, breakEvenRank, rankForFraction } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 2, heads: 2, maxPositions: 32 });

describe('the lowrank FFN kind', () => {
  it('names its factors after the HF weights and counts parameters by the formula', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.boolean(), (r, shared) => {
        const config = lowrankConfig(base, { rank: r, share_gate_up_v: shared });
        const shapes = paramShapes(config);
        expect(shapes['model.layers.0.mlp.gate_proj.weight']).toEqual([24, 16]);
        expect(shapes['model.layers.1.mlp.gate_proj.weight']).toBeUndefined();
        expect(shapes['model.layers.1.mlp.gate_proj.weight_u']).toEqual([24, r]);
        expect(shapes['model.layers.1.mlp.down_proj.weight_v']).toEqual([r, 24]);
        if (shared) expect(shapes['model.layers.1.mlp.gate_up_proj.weight_v']).toEqual([r, 16]);
        else expect(shapes['model.layers.1.mlp.up_proj.weight_v']).toEqual([r, 16]);
        const ffnLowRank = shared ? r * (3 * 24 + 2 * 16) : 3 * r * (16 + 24);
        expect(countParams(config)).toBe(countParams(base) - 3 * 16 * 24 + ffnLowRank);
        expect(flopsPerToken(config, 8).activeMatmulParams).toBe(flopsPerToken(base, 8).activeMatmulParams - 3 * 16 * 24 + ffnLowRank);
      }),
      { numRuns: 12 },
    );
  });

  it('takes the rank from a parameter fraction and refuses ranks at or above break-even unless forced', () => {
    const r = rankForFraction(0.32, { hidden: 16, ffn: 24 }, false);
    expect(r).toBe(Math.floor((0.32 * 3 * 16 * 24) / (3 * 40)));
    const config = lowrankConfig(base, { fraction: 0.32 });
    expect(paramShapes(config)['model.layers.1.mlp.up_proj.weight_u']).toEqual([24, r]);
    expect(breakEvenRank(24, 16)).toBeCloseTo(9.6, 10);
    expect(() => paramShapes(lowrankConfig(base, { rank: 10 }))).toThrowError(/break-even rank 9\.60 .* found 10/);
    expect(paramShapes(lowrankConfig(base, { rank: 10, force: true }))['model.layers.1.mlp.up_proj.weight_u']).toEqual([24, 10]);
    expect(() => paramShapes(lowrankConfig(base, { rank: 17, force: true }))).toThrowError(/an integer in 1\.\.16, found 17/);
  });

  it('runs forward with U·V equal to the dense weight it factors', () => {
    const config = lowrankConfig(base, { rank: 4, keepFirstDense: false });
    const params = initParams(config, 1);
    const dense = { ...params };
    for (const l of [0, 1]) {
      for (const w of ['gate_proj', 'up_proj', 'down_proj']) {
        const p = `model.layers.${l}.mlp.${w}.`;
        dense[p + 'weight'] = tf.matMul(params[p + 'weight_u'], params[p + 'weight_v']);
        delete dense[p + 'weight_u'];
        delete dense[p + 'weight_v'];
      }
    }
    const tokens = tf.tensor2d([[1, 5, 7, 30]], [1, 4], 'int32');
    const a = forward(config, params, tokens);
    const b = forward(base, dense, tokens);
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([a, b, tokens, ...Object.values(params), ...Object.values(dense)]);
  });

  it('inits factors so that U·V has the dense init std', () => {
    const big = llamaConfig({ vocab: 16, hidden: 32, ffn: 64, layers: 2, heads: 2 });
    const config = lowrankConfig(big, { rank: 16 });
    const params = initParams(config, 3, 0.02);
    const std = tf.tidy(() => tf.sqrt(tf.moments(tf.matMul(params['model.layers.1.mlp.up_proj.weight_u'], params['model.layers.1.mlp.up_proj.weight_v'])).variance).dataSync()[0]);
    expect(std).toBeGreaterThan(0.016);
    expect(std).toBeLessThan(0.024);
    tf.dispose(Object.values(params));
  });

  it('trains from scratch with core\'s Trainer: loss falls, tensor count stays flat', () => {
    const config = lowrankConfig(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 }), { rank: 4 });
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(30);
    const { train, val } = splitTrainVal(new ByteTokenizer().encode(text), 0.1);
    const trainer = Trainer.fresh(config, train, val, {
      batchSize: 2, seqLen: 16, accumulation: 1, schedule: { kind: 'cosine', lr: 1e-2, warmup: 1, total: 10 },
      adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1,
    });
    const first = trainer.step();
    const count = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 9; i++) last = trainer.step();
    expect(tf.memory().numTensors).toBe(count);
    expect(last.loss).toBeLessThan(first.loss - 0.3);
    trainer.dispose();
  });
});
