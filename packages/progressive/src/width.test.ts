import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkParams, countParams, dimsOf, initParams, llamaConfig, tf, UserError } from '@efficientscale/core';
import { growWidth } from './width.js';
import { growDepth } from './depth.js';
import { maxLogitGap, probeTokens } from './probe.js';
import { headMaps } from './width-maps.js';
import { disposeAll, randomModel, smallConfig } from './test-util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const growth = fc.record({
  hiddenExtra: fc.integer({ min: 0, max: 20 }),
  headFactor: fc.constantFrom(1, 2),
  ffnExtra: fc.integer({ min: 0, max: 30 }),
  seed: fc.integer({ min: 0, max: 99 }),
});

describe('growWidth', () => {
  it('fpi and lossless keep the logits for any hidden ratio, heads and FFN growth (GQA kept valid)', () => {
    fc.assert(
      fc.property(smallConfig, growth, fc.constantFrom('fpi', 'lossless' as const), ({ config, seed }, g, method) => {
        const d = dimsOf(config);
        const heads = d.heads * g.headFactor;
        // hidden must stay a multiple of heads
        const hidden = Math.ceil((d.hidden + g.hiddenExtra) / heads) * heads;
        const params = randomModel(config, seed);
        const r = growWidth(config, params, { hidden, heads, ffn: d.ffn + g.ffnExtra, method, seed: g.seed });
        checkParams(r.config, r.params, 'grown');
        expect(r.report.paramsAfter).toBe(countParams(r.config));
        expect(dimsOf(r.config).heads % dimsOf(r.config).kvHeads).toBe(0);
        expect(r.report.maxLogitGap!).toBeLessThan(1e-4);
        disposeAll(params, r.params);
      }),
      { numRuns: 15 },
    );
  });

  it('growing by nothing is the identity', () => {
    fc.assert(
      fc.property(smallConfig, fc.constantFrom('fpi', 'lossless', 'aki' as const), ({ config, seed }, method) => {
        const params = randomModel(config, seed);
        const r = growWidth(config, params, { method });
        for (const [n, t] of Object.entries(params)) expect(Array.from(r.params[n].dataSync())).toEqual(Array.from(t.dataSync()));
        expect(r.config).toEqual({ ...config, head_dim: dimsOf(config).headDim, rms_norm_eps: dimsOf(config).eps });
        disposeAll(params, r.params);
      }),
      { numRuns: 10 },
    );
  });

  it('lossless breaks the symmetry fpi leaves: copied FFN units get different outgoing weights', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 4, layers: 1, heads: 2 });
    const params = randomModel(config, 2);
    const col = (t: tf.Tensor, j: number) => Array.from(tf.tidy(() => tf.slice(t, [0, j], [-1, 1]).dataSync()));
    const f = growWidth(config, params, { ffn: 8, method: 'fpi' });
    const l = growWidth(config, params, { ffn: 8, method: 'lossless', seed: 3 });
    const down = 'model.layers.0.mlp.down_proj.weight';
    expect(col(f.params[down], 0)).toEqual(col(f.params[down], 4));
    expect(col(l.params[down], 0)).not.toEqual(col(l.params[down], 4));
    expect(l.report.maxLogitGap!).toBeLessThan(1e-4);
    disposeAll(params, f.params, l.params);
  });

  it('aki is not exact and reports its measured gap', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 2, heads: 2 });
    const params = randomModel(config, 4);
    const r = growWidth(config, params, { ffn: 12, heads: 4, hidden: 16, method: 'aki' });
    expect(r.report.exact).toBe(false);
    expect(r.report.maxLogitGap!).toBeGreaterThan(1e-4);
    expect(r.report.maxLogitGap).toBeCloseTo(maxLogitGap({ config, params }, r), 6);
    checkParams(r.config, r.params, 'grown');
    disposeAll(params, r.params);
  });

  it('width-then-depth equals depth-then-width for exact methods', () => {
    fc.assert(
      fc.property(smallConfig, fc.constantFrom('zero', 'copy', 'stack' as const), ({ config, seed }, depthMethod) => {
        const d = dimsOf(config);
        const params = randomModel(config, seed);
        const w = { hidden: d.hidden * 2, ffn: d.ffn + 3, method: 'fpi' as const, probe: false };
        const dp = { layers: d.layers + 2, method: depthMethod, seed, probe: false };
        const a1 = growWidth(config, params, w);
        const a = growDepth(a1.config, a1.params, dp);
        const b1 = growDepth(config, params, dp);
        const b = growWidth(b1.config, b1.params, w);
        expect(a.config).toEqual(b.config);
        const tokens = probeTokens(config);
        expect(maxLogitGap(a, b, tokens)).toBeLessThan(1e-4);
        expect(maxLogitGap({ config, params }, a, tokens)).toBeLessThan(1e-4);
        disposeAll(params, a1.params, a.params, b1.params, b.params);
        tokens.dispose();
      }),
      { numRuns: 10 },
    );
  });

  it('Adam moments follow: copies copy m and v, split weights scale m by the share and v by its square', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 4, layers: 1, heads: 2 });
    const params = initParams(config, 1);
    const optimizer: Record<string, tf.Tensor> = {};
    for (const [n, t] of Object.entries(params)) {
      optimizer[`m.${n}`] = tf.randomNormal(t.shape, 0, 1, 'float32', 5);
      optimizer[`v.${n}`] = tf.randomUniform(t.shape, 0.5, 1, 'float32', 6);
    }
    const r = growWidth(config, params, { ffn: 8, hidden: 12, method: 'fpi', optimizer });
    const at = (t: tf.Tensor, i: number, j: number) => (t.arraySync() as number[][])[i][j];
    const down = 'model.layers.0.mlp.down_proj.weight';
    const up = 'model.layers.0.mlp.up_proj.weight';
    // FFN unit 0 copied once: down column split in two.
    expect(at(r.optimizer![`m.${down}`], 1, 4)).toBeCloseTo(at(optimizer[`m.${down}`], 1, 0) / 2, 6);
    expect(at(r.optimizer![`v.${down}`], 1, 4)).toBeCloseTo(at(optimizer[`v.${down}`], 1, 0) / 4, 6);
    // up rows copied: moments copied (hidden 8 → 12: one copy of each unit and 4 zero units, so columns are not split).
    expect(at(r.optimizer![`m.${up}`], 5, 2)).toBeCloseTo(at(optimizer[`m.${up}`], 1, 2), 6);
    // zero-padded hidden units are new: moments start at zero.
    expect(at(r.optimizer![`v.${down}`], 10, 0)).toBe(0);
    disposeAll(params, optimizer, r.params, r.optimizer);
  });

  it('refuses shrinking, heads not dividing hidden, kvHeads not dividing heads, uncovered heads and unknown methods', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 1, heads: 2 });
    const params = initParams(config, 1);
    const before = tf.memory().numTensors;
    expect(() => growWidth(config, params, { hidden: 4, method: 'fpi' })).toThrow(/new hidden: expected an integer >= the current hidden \(8\)/);
    expect(() => growWidth(config, params, { hidden: 12, heads: 8, method: 'fpi' })).toThrow(/new heads: expected a divisor of the hidden size \(12\), found 8/);
    expect(() => growWidth(config, params, { heads: 4, kvHeads: 3, method: 'fpi' })).toThrow(/kvHeads: expected a divisor of the number of heads \(4\), found 3/);
    expect(() => growWidth(config, params, { method: 'net2net' as never })).toThrow(UserError);
    expect(tf.memory().numTensors).toBe(before);
    expect(headMaps(4, 1, 4, 2).q.src).toEqual([0, 1, 2, 3]);
    expect(() => headMaps(6, 2, 6, 3)).toThrow(/expected at least 3 query heads per copy of each old KV head/);
    disposeAll(params);
  });
});
