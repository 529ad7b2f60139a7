import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf } from '../tf.js';
import { adamWUpdate, causalSoftmax, crossEntropyRows, gelu, rmsNorm, rope, setFusedKernels, swiglu } from './fused.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setFusedKernels(process.env.EFFICIENTSCALE_FUSED !== '0'));

/** Runs f with the fused kernels and with stock ops; returns both results' values and their gradients w.r.t. xs. */
function bothWays(xs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor) {
  const once = (enabled: boolean) => {
    setFusedKernels(enabled);
    return tf.tidy(() => {
      const y = f(...xs);
      // A fixed random projection turns y into a scalar whose gradient exercises every output element.
      const w = tf.randomNormal(y.shape, 0, 1, 'float32', 3);
      const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)))(xs);
      return { y: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
    });
  };
  return { fused: once(true), plain: once(false) };
}

function expectClose(a: number[], b: number[], tol = 2e-5) {
  expect(a.length).toBe(b.length);
  const scale = Math.max(1, ...b.map(Math.abs));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * scale);
}

const dims = fc.integer({ min: 1, max: 7 });
const seed = fc.integer({ min: 0, max: 10_000 });
const randn = (shape: number[], s: number, std = 1) => tf.randomNormal(shape, 0, std, 'float32', s);

describe('fused kernels equal the stock-op compositions (values and gradients)', () => {
  it('swiglu', () => {
    fc.assert(fc.property(dims, dims, seed, (n, d, s) => {
      const r = bothWays([randn([n, d], s, 2), randn([n, d], s + 1)], (g, u) => swiglu(g as tf.Tensor2D, u as tf.Tensor2D));
      expectClose(r.fused.y, r.plain.y);
      r.fused.grads.forEach((g, i) => expectClose(g, r.plain.grads[i]));
    }), { numRuns: 20 });
  });

  it('gelu', () => {
    fc.assert(fc.property(dims, dims, seed, fc.constantFrom(1, 3, 12), (n, d, s, std) => {
      const r = bothWays([randn([n, d], s, std)], (x) => gelu(x));
      expectClose(r.fused.y, r.plain.y);
      expectClose(r.fused.grads[0], r.plain.grads[0], 1e-4);
    }), { numRuns: 20 });
  });

  it('gelu is the tanh form 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), finite at the extremes', () => {
    const xs = [-1e30, -40, -5, -1, -0.1, 0, 0.1, 1, 5, 40, 1e30];
    const exact = xs.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    for (const enabled of [true, false]) {
      setFusedKernels(enabled);
      const x = tf.tensor1d(xs);
      const y = Array.from(gelu(x).dataSync());
      y.forEach((v, i) => expect(Math.abs(v - exact[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(exact[i]))));
      x.dispose();
    }
    setFusedKernels(true);
    const g = tf.grad((x: tf.Tensor) => tf.sum(gelu(x)))(tf.tensor1d([-1e30, -40, 0, 40, 1e30]));
    expect(Array.from(g.dataSync())).toEqual([0, 0, 0.5, 1, 1]);
  });

  it('rmsNorm', () => {
    fc.assert(fc.property(dims, dims, seed, (n, d, s) => {
      const r = bothWays([randn([n, d], s), randn([d], s + 1)], (x, w) => rmsNorm(x as tf.Tensor2D, w, 1e-5));
      expectClose(r.fused.y, r.plain.y);
      r.fused.grads.forEach((g, i) => expectClose(g, r.plain.grads[i], 1e-4));
    }), { numRuns: 20 });
  });

  it('rope, whose gradient is the inverse rotation', () => {
    fc.assert(fc.property(dims, dims, fc.integer({ min: 1, max: 4 }), seed, (b, seq, half, s) => {
      const angles = randn([seq, half], s + 2, 3);
      const [cos, sin] = [tf.cos(angles), tf.sin(angles)] as tf.Tensor2D[];
      const r = bothWays([randn([b, 2, seq, 2 * half], s)], (x) => rope(x as tf.Tensor4D, cos, sin));
      expectClose(r.fused.y, r.plain.y);
      expectClose(r.fused.grads[0], r.plain.grads[0]);
      tf.dispose([angles, cos, sin]);
    }), { numRuns: 20 });
  });

  it('causal softmax over grouped query rows', () => {
    fc.assert(fc.property(dims, fc.integer({ min: 1, max: 3 }), dims, seed, (b, rep, seq, s) => {
      const r = bothWays([randn([b, 2, rep * seq, seq], s, 3)], (x) => causalSoftmax(x, 0.37));
      expectClose(r.fused.y, r.plain.y);
      expectClose(r.fused.grads[0], r.plain.grads[0]);
    }), { numRuns: 20 });
  });

  it('cross-entropy rows', () => {
    fc.assert(fc.property(dims, fc.integer({ min: 2, max: 9 }), seed, (n, v, s) => {
      const targets = tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7 + s) % v), 'int32');
      const r = bothWays([randn([n, v], s, 4)], (l) => crossEntropyRows(l as tf.Tensor2D, targets));
      expectClose(r.fused.y, r.plain.y);
      expectClose(r.fused.grads[0], r.plain.grads[0]);
      targets.dispose();
    }), { numRuns: 20 });
  });

  it('AdamW update, decayed and not', () => {
    fc.assert(fc.property(dims, dims, seed, fc.boolean(), (n, d, s, decayed) => {
      const [p, g, m] = [randn([n, d], s), randn([n, d], s + 1), randn([n, d], s + 2, 0.1)];
      const v = tf.abs(randn([n, d], s + 3, 0.01));
      const attrs = { lr: 1e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, decay: decayed ? 1e-4 : 0, c1: 0.19, c2: 0.0975 };
      const results = [true, false].map((enabled) => {
        setFusedKernels(enabled);
        return tf.tidy(() => adamWUpdate(p, g, m, v, attrs).map((t) => Array.from(t.dataSync())));
      });
      results[0].forEach((a, i) => expectClose(a, results[1][i]));
      tf.dispose([p, g, m, v]);
    }), { numRuns: 20 });
  });

  it('leave no tensors behind', () => {
    const x = randn([3, 4], 1);
    const w = randn([4], 2);
    const before = tf.memory().numTensors;
    tf.grads((a: tf.Tensor) => tf.sum(swiglu(rmsNorm(a as tf.Tensor2D, w, 1e-5), a as tf.Tensor2D)))([x]).forEach((g) => g.dispose());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});
