import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tf } from './tf.js';
// @ts-expect-error: a plain .mjs script without type declarations
import { generate, OUTPUT } from '../scripts/vendor-gradients.mjs';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Central finite differences of a scalar function of one tensor, in float64 arithmetic on float32 values. */
function numericGrad(f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor, h = 1e-2): Float32Array {
  const base = x.dataSync();
  const out = new Float32Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const at = (delta: number) =>
      tf.tidy(() => {
        const v = Float32Array.from(base);
        v[i] += delta;
        return f(tf.tensor(v, x.shape)).dataSync()[0];
      });
    out[i] = (at(h) - at(-h)) / (2 * h);
  }
  return out;
}

// The ops a Llama forward pass and its loss run through, each as a scalar function of x (shape [2, 3]).
const w = tf.tensor2d([[0.3, -0.7, 0.5], [0.9, 0.2, -0.4]]);
const m = tf.tensor2d([[0.5, -0.2], [0.1, 0.4], [-0.3, 0.6]]);
const cases: Record<string, (x: tf.Tensor) => tf.Scalar> = {
  'matMul, add': (x) => tf.sum(tf.add(tf.matMul(x as tf.Tensor2D, m), 0.5)),
  'batched matMul, transpose': (x) => tf.sum(tf.matMul(tf.reshape(x, [1, 2, 3]), tf.reshape(tf.transpose(x), [1, 3, 2]))),
  'mul, sub, div': (x) => tf.sum(tf.div(tf.sub(tf.mul(x, w), 1), tf.add(tf.square(x), 2))),
  'rsqrt, mean (RMSNorm)': (x) => tf.sum(tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), w)),
  'exp, log, sigmoid (SwiGLU)': (x) => tf.sum(tf.mul(tf.mul(x, tf.sigmoid(x)), tf.log(tf.add(tf.exp(x), 1)))),
  'softmax, logSoftmax': (x) => tf.sum(tf.mul(tf.add(tf.softmax(x), tf.logSoftmax(x)), w)),
  'concat, slice, gather': (x) => tf.sum(tf.mul(tf.concat([tf.slice(x, [0, 1], [2, 2]), tf.gather(x, [2, 0], 1)], 1), tf.concat([w, tf.slice(w, [0, 0], [2, 1])], 1))),
  'max, neg, maximum': (x) => tf.add(tf.sum(tf.max(tf.mul(x, w), 1)), tf.sum(tf.maximum(tf.neg(x), 0.1))),
};

describe('gradients registered from the vendored tfjs-core definitions', () => {
  const x = tf.tensor2d([[0.2, -1.1, 0.7], [1.3, -0.4, 0.05]]);
  for (const [name, f] of Object.entries(cases)) {
    it(`${name}: tf.grad matches finite differences`, () => {
      const analytic = tf.grad(f)(x).dataSync();
      const numeric = numericGrad(f, x);
      for (let i = 0; i < numeric.length; i++) expect(analytic[i]).toBeCloseTo(numeric[i], 2);
    });
  }

  it('chained ops are installed on tensors, as @tensorflow/tfjs installs them', () => {
    const y = tf.tidy(() => x.sub(w).square().mean(1).reshape([1, 2]).matMul(tf.ones([2, 1])).asScalar());
    const expected = tf.tidy(() => tf.sum(tf.mean(tf.square(tf.sub(x, w)), 1)));
    expect(y.dataSync()[0]).toBeCloseTo(expected.dataSync()[0], 5);
    tf.dispose([y, expected]);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(tf.grad(cases['rsqrt, mean (RMSNorm)'])(x));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loads neither @tensorflow/tfjs nor a second tfjs-core', () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((p) => /[\\/]@tensorflow[\\/]tfjs[\\/]/.test(p))).toEqual([]);
    // tfjs-core's CommonJS entry, once: every package resolved the same copy.
    expect(loaded.filter((p) => /[\\/]tfjs-core[\\/]dist[\\/]tf-core\.node\.js$/.test(p))).toHaveLength(1);
  });

  it('the generated file is what scripts/vendor-gradients.mjs writes for the installed tfjs-core', () => {
    expect(readFileSync(OUTPUT, 'utf8') === generate()).toBe(true);
  });
});
