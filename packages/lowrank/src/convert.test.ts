import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf, llamaConfig, initParams, forward, countParams, type Params } from '@efficientscale/core';
import { toLowRank, toDense, ffnCovariances, exactSvd, disposeSvd } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const arbConfig = fc.record({
  hidden: fc.constantFrom(8, 16),
  ffn: fc.integer({ min: 8, max: 24 }),
  layers: fc.integer({ min: 2, max: 3 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
});
const model = (o: { hidden: number; ffn: number; layers: number; seed: number }) => {
  const config = llamaConfig({ vocab: 32, hidden: o.hidden, ffn: o.ffn, layers: o.layers, heads: 2, maxPositions: 16 });
  return { config, params: initParams(config, o.seed, 0.2) };
};
const tokens = (seed: number) => tf.randomUniform([2, 8], 0, 32, 'int32', seed) as tf.Tensor2D;
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const free = (...ps: Params[]) => ps.forEach((p) => tf.dispose(Object.values(p)));

describe('toLowRank / toDense', () => {
  it('is exact at full rank, and toDense∘toLowRank is the identity', () => {
    fc.assert(
      fc.property(arbConfig, fc.boolean(), (o, shared) => {
        const { config, params } = model(o);
        const rank = 2 * o.ffn + o.hidden; // clamped to each weight's full rank
        const lr = toLowRank(config, params, { rank, force: true, shareGateUpV: shared, keepFirstDense: o.seed % 2 === 0 });
        const t = tokens(o.seed);
        const a = forward(config, params, t);
        const b = forward(lr.config, lr.params, t);
        expect(maxDiff(a, b)).toBeLessThan(1e-4);
        expect(lr.report.probeMaxAbsLogitDiff).toBeLessThan(1e-4);
        for (const w of lr.report.weights) expect(w.relativeError).toBeLessThan(1e-5);
        const back = toDense(lr.config, lr.params);
        expect(back.config).toEqual(config);
        for (const [name, p] of Object.entries(params)) expect(maxDiff(p, back.params[name])).toBeLessThan(1e-4);
        expect(Object.keys(back.params).sort()).toEqual(Object.keys(params).sort());
        tf.dispose([a, b, t]);
        free(params, lr.params, back.params);
      }),
      { numRuns: 10 },
    );
  });

  it('has the Eckart–Young error at rank r and the parameter count of the formula', () => {
    fc.assert(
      fc.property(arbConfig, (o) => {
        const { config, params } = model(o);
        const r = 1 + (o.seed % 3);
        const lr = toLowRank(config, params, { rank: r });
        for (const w of lr.report.weights) {
          const svd = exactSvd(params[w.name] as tf.Tensor2D);
          const all = svd.s.reduce((x, s) => x + s * s, 0);
          const discarded = svd.s.slice(r).reduce((x, s) => x + s * s, 0);
          expect(Math.abs(w.relativeError - Math.sqrt(discarded / all)) / Math.sqrt(discarded / all)).toBeLessThan(1e-4);
          expect(w.keptEnergy).toBeCloseTo(1 - discarded / all, 5);
          disposeSvd(svd);
        }
        const converted = o.layers - 1;
        expect(countParams(lr.config)).toBe(countParams(config) - converted * (3 * o.hidden * o.ffn - 3 * r * (o.hidden + o.ffn)));
        expect(lr.report.paramsAfter).toBe(countParams(lr.config));
        free(params, lr.params);
      }),
      { numRuns: 10 },
    );
  });

  it('activation-aware factors have no larger error on the calibration inputs than plain SVD', () => {
    fc.assert(
      fc.property(arbConfig, (o) => {
        const { config, params } = model(o);
        const calib = tf.randomUniform([4, 16], 0, 32, 'int32', o.seed + 1) as tf.Tensor2D;
        const covs = ffnCovariances(config, params, calib);
        const r = 2;
        const plain = toLowRank(config, params, { rank: r });
        const aware = toLowRank(config, params, { rank: r, aware: { tokens: calib } });
        // Error on the inputs X: ‖(W − U·V)·Xᵀ‖² = tr(Δ·C·Δᵀ), C = Σ xxᵀ.
        const onInputs = (lr: { params: Params }, layer: number, proj: string) => {
          const p = `model.layers.${layer}.mlp.${proj}.`;
          const cov = proj === 'down_proj' ? covs.get(layer)!.h : covs.get(layer)!.x;
          return tf.tidy(() => {
            const delta = tf.sub(params[p + 'weight'], tf.matMul(lr.params[p + 'weight_u'], lr.params[p + 'weight_v']));
            const n = delta.shape[1]!;
            const c = tf.tensor2d(Float32Array.from(cov), [n, n]);
            return tf.sum(tf.mul(tf.matMul(delta, c), delta)).dataSync()[0];
          });
        };
        for (let l = 1; l < o.layers; l++) {
          for (const proj of ['gate_proj', 'up_proj', 'down_proj']) {
            expect(onInputs(aware, l, proj)).toBeLessThanOrEqual(onInputs(plain, l, proj) * (1 + 1e-3));
          }
        }
        tf.dispose(calib);
        free(params, plain.params, aware.params);
      }),
      { numRuns: 10 },
    );
  });

  it('picks the smallest rank keeping the asked energy, and refuses a rank at or above break-even', () => {
    const { config, params } = model({ hidden: 16, ffn: 24, layers: 2, seed: 5 });
    const lr = toLowRank(config, params, { energy: 0.5 });
    for (const w of lr.report.weights) {
      expect(w.keptEnergy).toBeGreaterThanOrEqual(0.5 - 1e-9);
      const svd = exactSvd(params[w.name] as tf.Tensor2D);
      const all = svd.s.reduce((x, s) => x + s * s, 0);
      const fewer = svd.s.slice(0, w.rank - 1).reduce((x, s) => x + s * s, 0) / all;
      expect(fewer).toBeLessThan(0.5);
      disposeSvd(svd);
    }
    const before = tf.memory().numTensors;
    expect(() => toLowRank(config, params, { rank: 10 })).toThrowError(/break-even rank 9\.60/);
    expect(tf.memory().numTensors).toBe(before); // a refused conversion frees what it made
    const calib = tf.randomUniform([2, 16], 0, 32, 'int32', 9) as tf.Tensor2D;
    const aware = toLowRank(config, params, { fraction: 0.3, aware: { tokens: calib }, shareGateUpV: true });
    free(aware.params);
    calib.dispose();
    expect(tf.memory().numTensors).toBe(before); // no tensor is left behind but the result's
    expect(() => toLowRank(config, params, { rank: 2, fraction: 0.3 })).toThrowError(/exactly one of rank, fraction, energy/);
    free(params, lr.params);
  });
});
