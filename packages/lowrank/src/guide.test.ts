import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf, llamaConfig, initParams, forward, paramShapes, flopsPerToken, Trainer, splitTrainVal, ByteTokenizer, defaultAdamW, type Params } from '@efficientscale/core';
import { lowrankConfig, withGuideAlpha, dropGuide, guideAlpha, spectralInitParams, exactSvd, disposeSvd } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 2, heads: 2, maxPositions: 16 });
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('self-guided training', () => {
  it('α = 1 is the dense branch, α = 0 the low-rank branch; dropGuide leaves the low-rank model', () => {
    const guided = withGuideAlpha(lowrankConfig(base, { rank: 3 }), 1);
    expect(paramShapes(guided)['model.layers.1.mlp.up_proj.weight']).toEqual([24, 16]);
    expect(flopsPerToken(guided, 8).activeMatmulParams).toBe(flopsPerToken(lowrankConfig(base, { rank: 3 }), 8).activeMatmulParams + 3 * 16 * 24);
    const params = initParams(guided, 2, 0.2);
    const tokens = tf.tensor2d([[1, 4, 9, 16, 25]], [1, 5], 'int32');
    const dense: Params = {};
    for (const [n, t] of Object.entries(params)) if (!n.includes('weight_')) dense[n] = t;
    const lowOnly = dropGuide(guided, params);
    const atOne = forward(guided, params, tokens);
    const atZero = forward(withGuideAlpha(guided, 0), params, tokens);
    const denseOut = forward(base, dense, tokens);
    const lowOut = forward(lowOnly.config, lowOnly.params, tokens);
    expect(maxDiff(atOne, denseOut)).toBeLessThan(1e-5);
    expect(maxDiff(atZero, lowOut)).toBeLessThan(1e-5);
    expect(maxDiff(atOne, atZero)).toBeGreaterThan(1e-3);
    expect(lowOnly.config.efficientscale?.ffn_options?.lowrank).toEqual({ layer_ranks: { 1: { gate_proj: 3, up_proj: 3, down_proj: 3 } } });
    expect(guideAlpha(0, 10)).toBe(1);
    expect(guideAlpha(5, 10)).toBeCloseTo(0.5, 12);
    expect(guideAlpha(10, 10)).toBe(0);
    expect(() => forward(withGuideAlpha(guided, 1.5), params, tokens)).toThrowError(/guide_alpha.*a number in \[0, 1\], found 1.5/);
    tf.dispose([atOne, atZero, denseOut, lowOut, tokens, ...Object.values(params), ...Object.values(lowOnly.params)]);
  });
});

describe('self-guided training with core\'s Trainer', () => {
  it('anneals α from 1 to 0 over the run, the loss falls, and dropGuide keeps the trained low-rank model', () => {
    const total = 10;
    const start = withGuideAlpha(lowrankConfig(llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 }), { rank: 4 }), 1);
    const { train, val } = splitTrainVal(new ByteTokenizer().encode('pack my box with five dozen liquor jugs. '.repeat(30)), 0.1);
    const trainer = Trainer.fresh(start, train, val, {
      batchSize: 2, seqLen: 16, accumulation: 1, schedule: { kind: 'cosine', lr: 1e-2, warmup: 1, total },
      adamw: defaultAdamW, clipNorm: 1, seed: 3, evalBatches: 1,
    });
    const losses: number[] = [];
    for (let step = 0; step < total; step++) {
      trainer.config = withGuideAlpha(trainer.config, guideAlpha(step, total - 1));
      losses.push(trainer.step().loss);
    }
    expect(trainer.config.efficientscale?.ffn_options?.lowrank?.guide_alpha).toBe(0);
    expect(losses[total - 1]).toBeLessThan(losses[0] - 0.3);
    const low = dropGuide(trainer.config, trainer.params);
    const tokens = tf.tensor2d([[112, 97, 99, 107]], [1, 4], 'int32');
    const a = forward(trainer.config, trainer.params, tokens);
    const b = forward(low.config, low.params, tokens);
    expect(maxDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([a, b, tokens, ...Object.values(low.params)]);
    trainer.dispose();
  });
});

describe('spectral init', () => {
  it('gives factors whose product has rank r and balanced singular values split between U and V', () => {
    const config = lowrankConfig(base, { rank: 4, share_gate_up_v: true });
    const params = spectralInitParams(config, 1, 0.02);
    const u = params['model.layers.1.mlp.down_proj.weight_u'] as tf.Tensor2D;
    const v = params['model.layers.1.mlp.down_proj.weight_v'] as tf.Tensor2D;
    const w = tf.matMul(u, v) as tf.Tensor2D;
    const svd = exactSvd(w);
    expect(svd.s[4] / svd.s[0]).toBeLessThan(1e-4);
    // Balanced: UᵀU = V·Vᵀ = Σ (diagonal, equal).
    const utu = tf.matMul(u, u, true);
    const vvt = tf.matMul(v, v, false, true);
    expect(maxDiff(utu, vvt) / svd.s[0]).toBeLessThan(1e-4);
    expect(paramShapes(config)['model.layers.1.mlp.gate_up_proj.weight_v']).toEqual(params['model.layers.1.mlp.gate_up_proj.weight_v'].shape);
    disposeSvd(svd);
    tf.dispose([w, utu, vvt, ...Object.values(params)]);
  });
});

describe('self-guided mix, as a property', () => {
  it('for any config, rank, shared V and seed: α = 1 gives the dense model of W, α = 0 the low-rank model of U·V', () => {
    fc.assert(
      fc.property(
        // ffn ≥ 12 keeps rank 4 below the break-even rank r* = m·n/(m+n) of the smallest weight (8×12: 4.8), which is refused.
        fc.record({ hidden: fc.constantFrom(8, 16), ffn: fc.integer({ min: 12, max: 24 }), rank: fc.integer({ min: 1, max: 4 }), shared: fc.boolean(), seed: fc.integer({ min: 0, max: 10_000 }) }),
        (o) => {
          const plain = llamaConfig({ vocab: 32, hidden: o.hidden, ffn: o.ffn, layers: 2, heads: 2, maxPositions: 16 });
          const guided = withGuideAlpha(lowrankConfig(plain, { rank: o.rank, share_gate_up_v: o.shared }), 1);
          const params = initParams(guided, o.seed, 0.3);
          const dense: Params = {};
          for (const [n, t] of Object.entries(params)) if (!n.includes('weight_')) dense[n] = t;
          const low = dropGuide(guided, params);
          const tokens = tf.tensor2d([[o.seed % 32, 3, 17, 30, 8]], [1, 5], 'int32');
          const outs = [forward(guided, params, tokens), forward(plain, dense, tokens), forward(withGuideAlpha(guided, 0), params, tokens), forward(low.config, low.params, tokens)];
          const [atOne, denseOut, atZero, lowOut] = outs;
          expect(maxDiff(atOne, denseOut)).toBeLessThan(1e-5);
          expect(maxDiff(atZero, lowOut)).toBeLessThan(1e-5);
          tf.dispose([...outs, tokens, ...Object.values(params), ...Object.values(low.params)]);
        },
      ),
      { numRuns: 12 },
    );
  });
});
