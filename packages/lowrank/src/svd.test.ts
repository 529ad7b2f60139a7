import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf } from '@efficientscale/core';
import { exactSvd, randomizedSvd, balancedFactors, disposeSvd } from './svd.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const frob = (t: tf.Tensor) => tf.tidy(() => Math.sqrt(tf.sum(tf.square(t)).dataSync()[0]));

describe('exactSvd', () => {
  it('reconstructs a matrix at full rank and has orthonormal factors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 1000 }), (m, n, seed) => {
        const a = tf.randomNormal([m, n], 0, 1, 'float32', seed) as tf.Tensor2D;
        const svd = exactSvd(a);
        const err = tf.tidy(() => frob(tf.sub(a, tf.matMul(tf.mul(svd.u, tf.tensor1d(Float32Array.from(svd.s))), svd.v, false, true))));
        expect(err / frob(a)).toBeLessThan(1e-5);
        const k = Math.min(m, n);
        const gram = tf.tidy(() => frob(tf.sub(tf.matMul(svd.u, svd.u, true), tf.eye(k))));
        expect(gram).toBeLessThan(1e-4);
        for (let i = 1; i < k; i++) expect(svd.s[i]).toBeLessThanOrEqual(svd.s[i - 1]);
        tf.dispose(a);
        disposeSvd(svd);
      }),
      { numRuns: 15 },
    );
  });

  it('meets Eckart–Young: the rank-r error is the root of the discarded squared singular values', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 20 }), fc.integer({ min: 4, max: 20 }), fc.integer({ min: 0, max: 1000 }), (m, n, seed) => {
        const a = tf.randomNormal([m, n], 0, 1, 'float32', seed) as tf.Tensor2D;
        const full = exactSvd(a);
        const r = 1 + (seed % (Math.min(m, n) - 1));
        const svd = exactSvd(a, r);
        const { u, v } = balancedFactors(svd);
        const err = tf.tidy(() => frob(tf.sub(a, tf.matMul(u, v))));
        const expected = Math.sqrt(full.s.slice(r).reduce((x, s) => x + s * s, 0));
        expect(Math.abs(err - expected) / expected).toBeLessThan(1e-4);
        tf.dispose([a, u, v]);
        disposeSvd(svd);
        disposeSvd(full);
      }),
      { numRuns: 15 },
    );
  });
});

describe('randomizedSvd', () => {
  it('recovers the top singular values of a matrix with a decaying spectrum, leaving no tensors', () => {
    const m = 200;
    const n = 150;
    const before = tf.memory().numTensors;
    // A = P·diag(σ)·Qᵀ with σ_i = 0.8^i, built from exact orthonormal factors.
    const orthonormal = (rows: number, seed: number) => {
      const g = tf.randomNormal([rows, n], 0, 1, 'float32', seed) as tf.Tensor2D;
      const svd = exactSvd(g);
      tf.dispose([g, svd.v]);
      return svd.u;
    };
    const p = orthonormal(m, 1);
    const q = orthonormal(n, 2);
    const sigma = Float32Array.from({ length: n }, (_, i) => 0.8 ** i);
    const a = tf.tidy(() => tf.matMul(tf.mul(p, tf.tensor1d(sigma)), q, false, true)) as tf.Tensor2D;
    const svd = randomizedSvd(a, 20, { seed: 3 });
    for (let i = 0; i < 20; i++) expect(Math.abs(svd.s[i] - sigma[i]) / sigma[i]).toBeLessThan(1e-3);
    const { u, v } = balancedFactors(svd);
    const err = tf.tidy(() => frob(tf.sub(a, tf.matMul(u, v))));
    const optimal = Math.sqrt(sigma.slice(20).reduce((x, s) => x + s * s, 0));
    expect(err).toBeLessThan(optimal * 1.01);
    tf.dispose([a, u, v, p, q]);
    disposeSvd(svd);
    expect(tf.memory().numTensors).toBe(before);
  });
});
