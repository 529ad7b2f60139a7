/**
 * Property tests of the project's fused kernels on 'native' against core's JavaScript reference
 * (packages/core/src/ops/cpu-kernels.ts, imported by path: core is not a dependency of this package).
 * This file does not load core's model, so core's cpu versions of these kernels are not registered
 * here: the native ones must work on their own.
 */
import { describe, expect, it } from 'vitest';
import { getKernel } from '@tensorflow/tfjs-core';
import { reference, registerCpuKernels } from '../../core/src/ops/cpu-kernels.js';
import { kernelNames } from '../../core/src/ops/kernel-names.js';
import { FUSED_KERNEL_NAMES, FusedKernelNames as K } from './fused.js';
import { fc, registration, seedArb, shapeArb, sizeOf, tf, values } from './test-util.js';

const f32 = (seed: number, shape: number[], lo = -2, hi = 2) => tf.tensor(values(seed, sizeOf(shape), lo, hi), shape, 'float32');
const RUNS = { numRuns: 80 };

/**
 * Runs a kernel on 'native'; returns its outputs' shapes and values, and checks that nothing (tensor
 * or backend buffer) is left behind.
 */
function runNative(name: string, build: () => Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) {
  tf.setBackend('native');
  const before = tf.memory().numTensors, ids = tf.engine().backend.numDataIds();
  const inputs = build();
  const raw = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(raw) ? raw : [raw];
  const ins = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.dataSync().slice()])) as Record<string, Float32Array>;
  const res = outs.map((t) => ({ shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) }));
  tf.dispose(outs);
  tf.dispose(Object.values(inputs));
  expect(tf.memory().numTensors).toBe(before);
  expect(tf.engine().backend.numDataIds()).toBe(ids);
  return { ins, res };
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]) > m) m = Math.abs(a[i]);
  return m;
};

/**
 * Each element within 1e-5 relative of the reference, plus an absolute slack of 1e-5 of the output's
 * largest magnitude (for outputs that are differences of nearly equal terms, e.g. gradients).
 */
function expectClose(got: Float32Array, want: Float32Array, what: string, termScale = 0, rtol = 1e-5) {
  expect(got.length, what).toBe(want.length);
  // termScale: the magnitude of the terms an output is a difference of, when they can cancel
  const atol = rtol * Math.max(maxAbs(want), termScale) + 1e-30;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : !Number.isFinite(w) ? g === w : Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok) throw new Error(`${what} element ${i}: native ${g}, reference ${w}`);
  }
}

const dim = (min = 1, max = 6) => fc.integer({ min, max });

describe.skipIf(!registration.ok)('fused kernels: native vs core reference', () => {
  it('registers every fused kernel for native, without core cpu versions present, and keeps them after core registers its own', () => {
    // this package's copy of the names (core is not its dependency) is core's list
    expect(K).toEqual(kernelNames);
    expect([...FUSED_KERNEL_NAMES].sort()).toEqual(Object.values(kernelNames).sort());
    for (const name of FUSED_KERNEL_NAMES) {
      expect(getKernel(name, 'cpu'), name).toBeUndefined();
      expect(getKernel(name, 'native'), name).toBeDefined();
    }
    const before = FUSED_KERNEL_NAMES.map((n) => getKernel(n, 'native')!.kernelFunc);
    registerCpuKernels();
    FUSED_KERNEL_NAMES.forEach((n, i) => {
      expect(getKernel(n, 'cpu'), n).toBeDefined();
      expect(getKernel(n, 'native')!.kernelFunc, n).toBe(before[i]);
      expect(getKernel(n, 'native')!.kernelFunc, n).not.toBe(getKernel(n, 'cpu')!.kernelFunc);
    });
  });

  it('EsAdamW', () => {
    fc.assert(
      fc.property(
        shapeArb(0, 3, 6), seedArb,
        fc.record({
          lr: fc.double({ min: 1e-5, max: 0.1, noNaN: true }), beta1: fc.constantFrom(0, 0.5, 0.9), beta2: fc.constantFrom(0.9, 0.95, 0.999),
          eps: fc.constantFrom(1e-8, 1e-6), decay: fc.constantFrom(0, 1e-3, 0.01),
          c1: fc.double({ min: 0.01, max: 1, noNaN: true }), c2: fc.double({ min: 0.001, max: 1, noNaN: true }),
        }),
        (shape, seed, a) => {
          const { ins, res } = runNative(K.adamW, () => ({
            param: f32(seed, shape), grad: f32(seed + 1, shape, -1, 1), m: f32(seed + 2, shape, -0.1, 0.1), v: f32(seed + 3, shape, 0, 0.01),
          }), a);
          const want = reference.adamW(ins.param, ins.grad, ins.m, ins.v, a);
          res.forEach((r) => expect(r.shape).toEqual(shape));
          const [p2, m2, v2] = res.map((r) => r.values);
          // m' and v' are sums of two terms that can cancel: allow 1e-5 of the terms' size.
          expectClose(m2, want[1], 'm', a.beta1 * maxAbs(ins.m) + (1 - a.beta1) * maxAbs(ins.grad));
          expectClose(v2, want[2], 'v', a.beta2 * maxAbs(ins.v) + (1 - a.beta2) * maxAbs(ins.grad) ** 2);
          // param' from the m' and v' the kernel produced, so float32 rounding of m' is not amplified by 1/sqrt(v').
          const step = Float64Array.from(m2, (m, i) => (a.lr * (m / a.c1)) / (Math.sqrt(v2[i] / a.c2) + a.eps));
          const pWant = Float32Array.from(ins.param, (p, i) => p * (1 - a.decay) - step[i]);
          expectClose(p2, pWant, 'param', maxAbs(ins.param) + maxAbs(Float32Array.from(step)));
        },
      ),
      RUNS,
    );
  });

  it('EsSwiGLU and EsSwiGLUGrad, moderate and saturating inputs', () => {
    fc.assert(
      fc.property(shapeArb(0, 3, 7), seedArb, fc.constantFrom(4, 30, 100), (shape, seed, range) => {
        const build = () => ({ gate: f32(seed, shape, -range, range), up: f32(seed + 1, shape) });
        const y = runNative(K.swiglu, build);
        expect(y.res[0].shape).toEqual(shape);
        expectClose(y.res[0].values, reference.swiglu(y.ins.gate, y.ins.up), 'swiglu');
        const g = runNative(K.swigluGrad, () => ({ ...build(), dy: f32(seed + 2, shape) }));
        const [dg, du] = reference.swigluGrad(g.ins.gate, g.ins.up, g.ins.dy);
        expectClose(g.res[0].values, dg, 'dgate');
        expectClose(g.res[1].values, du, 'dup');
      }),
      RUNS,
    );
  });

  it('EsGelu and EsGeluGrad, over wide ranges', () => {
    fc.assert(
      fc.property(shapeArb(0, 3, 7), seedArb, fc.constantFrom(4, 30, 1e4), (shape, seed, range) => {
        const y = runNative(K.gelu, () => ({ x: f32(seed, shape, -range, range) }));
        expect(y.res[0].shape).toEqual(shape);
        expectClose(y.res[0].values, reference.gelu(y.ins.x), 'gelu');
        const g = runNative(K.geluGrad, () => ({ x: f32(seed, shape, -range, range), dy: f32(seed + 2, shape) }));
        expectClose(g.res[0].values, reference.geluGrad(g.ins.x, g.ins.dy), 'dx');
      }),
      RUNS,
    );
  });

  it('EsRope, forward and inverse, with leading batch dims', () => {
    fc.assert(
      fc.property(shapeArb(0, 2, 3, 1), dim(1, 9), dim(1, 8), seedArb, fc.boolean(), (lead, seq, half, seed, inverse) => {
        const d = 2 * half, shape = [...lead, seq, d];
        const { ins, res } = runNative(K.rope, () => ({
          x: f32(seed, shape), cos: f32(seed + 1, [seq, half], -1, 1), sin: f32(seed + 2, [seq, half], -1, 1),
        }), { inverse });
        expect(res[0].shape).toEqual(shape);
        expectClose(res[0].values, reference.rope(ins.x, shape, ins.cos, ins.sin, inverse), 'rope');
      }),
      RUNS,
    );
  });

  it('EsRope with inverse undoes the rotation', () => {
    tf.setBackend('native');
    const seq = 5, half = 4;
    const angles = values(3, seq * half, 0, 6.283);
    const cos = tf.tensor2d(angles.map(Math.cos), [seq, half]), sin = tf.tensor2d(angles.map(Math.sin), [seq, half]);
    const x = f32(9, [2, seq, 2 * half]);
    const fwd = tf.engine().runKernel(K.rope, { x, cos, sin }, { inverse: false }) as tf.Tensor;
    const back = tf.engine().runKernel(K.rope, { x: fwd, cos, sin }, { inverse: true }) as tf.Tensor;
    expectClose(back.dataSync() as Float32Array, x.dataSync() as Float32Array, 'round trip');
    tf.dispose([cos, sin, x, fwd, back]);
  });

  it('EsRmsNorm and EsRmsNormGrad', () => {
    fc.assert(
      fc.property(dim(1, 12), dim(1, 40), seedArb, fc.constantFrom(1e-6, 1e-5, 0.1), fc.constantFrom(0.01, 1, 100), (n, d, seed, eps, scale) => {
        const x = () => f32(seed, [n, d], -scale, scale), w = () => f32(seed + 1, [d], 0.5, 1.5);
        const y = runNative(K.rmsNorm, () => ({ x: x(), weight: w() }), { eps });
        expect(y.res[0].shape).toEqual([n, d]);
        expectClose(y.res[0].values, reference.rmsNorm(y.ins.x, y.ins.weight, eps), 'rmsNorm');
        const g = runNative(K.rmsNormGrad, () => ({ x: x(), weight: w(), dy: f32(seed + 2, [n, d]) }), { eps });
        const [dx, dw] = reference.rmsNormGrad(g.ins.x, g.ins.weight, g.ins.dy, eps);
        expect(g.res[0].shape).toEqual([n, d]);
        expect(g.res[1].shape).toEqual([d]);
        // dx = r·(dy·w − xhat·mean): terms of size max r·|dy·w|
        let rMax = 0, xhatMax = 0;
        for (let o = 0; o < n * d; o += d) {
          let ss = 0, xMax = 0;
          for (let i = 0; i < d; i++) (ss += g.ins.x[o + i] ** 2), (xMax = Math.max(xMax, Math.abs(g.ins.x[o + i])));
          const r = 1 / Math.sqrt(ss / d + eps);
          rMax = Math.max(rMax, r);
          xhatMax = Math.max(xhatMax, xMax * r);
        }
        expectClose(g.res[0].values, dx, 'dx', rMax * maxAbs(g.ins.dy) * maxAbs(g.ins.weight));
        // dweight = Σ_rows dy·xhat: n terms of size up to |dy|·|xhat| that can cancel (seed 1282176219: two rows, d = 1)
        expectClose(g.res[1].values, dw, 'dweight', n * maxAbs(g.ins.dy) * xhatMax);
      }),
      RUNS,
    );
  });

  it('EsRmsNormGrad sums dweight over many rows (threaded partial sums)', () => {
    const n = 600, d = 96, eps = 1e-5;
    const g = runNative(K.rmsNormGrad, () => ({ x: f32(1, [n, d]), weight: f32(2, [d], 0.5, 1.5), dy: f32(3, [n, d]) }), { eps });
    const [dx, dw] = reference.rmsNormGrad(g.ins.x, g.ins.weight, g.ins.dy, eps);
    expectClose(g.res[0].values, dx, 'dx');
    expectClose(g.res[1].values, dw, 'dweight');
  });

  it('EsCausalSoftmax with rows = k·seq (k = 1, 2) and EsCausalSoftmaxGrad', () => {
    fc.assert(
      fc.property(shapeArb(0, 2, 3, 1), dim(1, 20), fc.constantFrom(1, 2), seedArb, fc.constantFrom(0.125, 1, 3), fc.constantFrom(2, 20),
        (lead, seq, k, seed, scale, range) => {
          const shape = [...lead, k * seq, seq];
          const y = runNative(K.causalSoftmax, () => ({ scores: f32(seed, shape, -range, range) }), { scale });
          expect(y.res[0].shape).toEqual(shape);
          const want = reference.causalSoftmax(y.ins.scores, shape, scale);
          expectClose(y.res[0].values, want, 'causalSoftmax');
          // masked entries are exactly zero
          for (let i = 0; i < want.length; i++) if (want[i] === 0) expect(y.res[0].values[i]).toBe(0);
          const g = runNative(K.causalSoftmaxGrad, () => ({ y: tf.tensor(want, shape), dy: f32(seed + 1, shape) }), { scale });
          expectClose(g.res[0].values, reference.causalSoftmaxGrad(g.ins.y, g.ins.dy, seq, scale), 'causalSoftmaxGrad', scale * maxAbs(g.ins.dy));
        }),
      RUNS,
    );
  });

  it('EsCausalSoftmax on the attention shape (threaded rows)', () => {
    const shape = [2, 4, 64, 64], scale = 0.125;
    const y = runNative(K.causalSoftmax, () => ({ scores: f32(5, shape, -30, 30) }), { scale });
    expectClose(y.res[0].values, reference.causalSoftmax(y.ins.scores, shape, scale), 'causalSoftmax');
  });

  it('EsCrossEntropy and EsCrossEntropyGrad with int32 targets', () => {
    fc.assert(
      fc.property(dim(1, 12), dim(1, 70), seedArb, fc.constantFrom(1, 10, 50), (n, v, seed, range) => {
        const logits = () => f32(seed, [n, v], -range, range);
        const targets = () => tf.tensor1d(values(seed + 1, n, 0, v, true), 'int32');
        const l = runNative(K.crossEntropy, () => ({ logits: logits(), targets: targets() }));
        const tv = Int32Array.from(l.ins.targets);
        expect(l.res[0].shape).toEqual([n]);
        // (the reference, in double, rounds a loss below ~1e-16·|logits| to 0; native keeps it)
        expectClose(l.res[0].values, reference.crossEntropy(l.ins.logits, tv, v), 'loss', 1e-6 * range);
        const g = runNative(K.crossEntropyGrad, () => ({ logits: logits(), targets: targets(), dy: f32(seed + 2, [n]) }));
        expect(g.res[0].shape).toEqual([n, v]);
        expectClose(g.res[0].values, reference.crossEntropyGrad(g.ins.logits, tv, g.ins.dy, v), 'dlogits', maxAbs(g.ins.dy));
      }),
      RUNS,
    );
  });

  it('a row holding NaN gives NaN (softmax, cross-entropy, rmsNorm)', () => {
    const x = [1, 5, 2, NaN, 3, -1];
    // row 1 attends to keys 0 and 1: [NaN, 3]; row 0 to key 0 only
    const s = runNative(K.causalSoftmax, () => ({ scores: tf.tensor(x.concat([0, 0, 0]), [3, 3]) }), { scale: 1 });
    expect(Array.from(s.res[0].values.subarray(0, 5))).toEqual([1, 0, 0, NaN, NaN]);
    expect(s.res[0].values[5]).toBe(0);
    const l = runNative(K.crossEntropy, () => ({ logits: tf.tensor2d(x, [2, 3]), targets: tf.tensor1d([0, 2], 'int32') }));
    expect(Number.isNaN(l.res[0].values[1])).toBe(true);
    expectClose(l.res[0].values.subarray(0, 1), reference.crossEntropy(Float32Array.from(x.slice(0, 3)), Int32Array.of(0), 3), 'finite row');
    const r = runNative(K.rmsNorm, () => ({ x: tf.tensor2d(x, [2, 3]), weight: tf.ones([3]) }), { eps: 1e-5 });
    expect(Array.from(r.res[0].values.subarray(3)).every(Number.isNaN)).toBe(true);
    expect(r.res[0].values.subarray(0, 3).every(Number.isFinite)).toBe(true);
  });

  it('hands inputs the addon does not take (float32 targets) to the cpu version of the kernel', () => {
    tf.setBackend('native');
    const logits = f32(4, [3, 5]), targets = tf.tensor1d([1, 4, 0], 'float32');
    const loss = tf.engine().runKernel(K.crossEntropy, { logits, targets }, {}) as tf.Tensor;
    const want = reference.crossEntropy(logits.dataSync() as Float32Array, Int32Array.of(1, 4, 0), 5);
    expectClose(loss.dataSync() as Float32Array, want, 'loss');
    tf.dispose([logits, targets, loss]);
  });
});
