/**
 * Property tests of the WGSL kernels on 'webgpu' (SwiftShader where there is no GPU) against core's
 * JavaScript reference (packages/core/src/ops/cpu-kernels.ts, imported by path: core is not a dependency
 * of this package). Shapes from fast-check with odd sizes and 1-element dims, plus fixed large cases
 * (rows past 65535 workgroups, a 32000-entry vocabulary). Tolerances: 1e-5 relative for element-wise
 * kernels; 2e-5 relative, plus that fraction of the terms' magnitude, for row reductions (summed in
 * another order than the reference's sequential loop).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { reference } from '../../core/src/ops/cpu-kernels.js';
import { kernelNames } from '../../core/src/ops/kernel-names.js';
import { webgpuKernelNames } from './kernels/registry.js';
import { moeReference } from '../../moe/src/device-kernels.js';
import { expectClose, fc, registration, runWebGPU, sizeOf, skipReason, tf, values, webgpuExpected } from './test-util.js';

const RUNS = { numRuns: 12, endOnFailure: true };
const dim = (min = 1, max = 7) => fc.integer({ min, max });
const shapeArb = (minRank = 0, maxRank = 3) => fc.array(dim(), { minLength: minRank, maxLength: maxRank });
const seedArb = fc.integer({ min: 1, max: 2 ** 30 });
/** A tensor of deterministic values, and the values (read back synchronously is impossible on webgpu in Node). */
const vals = new WeakMap<tf.Tensor, Float32Array>();
const t = (seed: number, shape: number[], lo = -2, hi = 2) => {
  const v = values(seed, sizeOf(shape), lo, hi);
  const x = tf.tensor(v, shape, 'float32');
  vals.set(x, v);
  return x;
};
const host = (x: tf.Tensor) => vals.get(x)!;
const ROW_RTOL = 2e-5;

describe('webgpu availability', () => {
  it('starts wherever Chromium\'s SwiftShader and the Vulkan loader are installed (as in CI)', () => {
    if (webgpuExpected()) expect(skipReason).toBeNull();
    else expect(registration).toMatchObject({ ok: false });
  });
});

describe.skipIf(!registration.ok)('WGSL kernels vs core reference', () => {
  beforeAll(async () => {
    await tf.setBackend('webgpu');
  });

  it('registers a kernel for each of core\'s fused kernels, and the sum of squares', () => {
    expect(webgpuKernelNames).toEqual([...Object.values(kernelNames), 'EsSumSquares', 'EsTopK', 'EsGroupByExpert', 'EsGroupedMatMul', 'EsGroupedMatMulGradW'].sort());
    for (const name of webgpuKernelNames) expect(tf.getKernel(name, 'webgpu'), name).toBeDefined();
  });

  it('EsGelu and EsGeluGrad (1e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(), seedArb, async (shape, seed) => {
        const x = t(seed, shape, -6, 6), dy = t(seed + 1, shape);
        const xv = host(x), dv = host(dy);
        expectClose((await runWebGPU('EsGelu', { x }))[0], reference.gelu(xv), 'gelu', 1e-5);
        expectClose((await runWebGPU('EsGeluGrad', { x, dy }))[0], reference.geluGrad(xv, dv), 'geluGrad', 1e-5, 2);
        tf.dispose([x, dy]);
      }),
      RUNS,
    );
  });

  it('EsSwiGLU and EsSwiGLUGrad (1e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(), seedArb, async (shape, seed) => {
        const [gate, up, dy] = [t(seed, shape, -8, 8), t(seed + 1, shape), t(seed + 2, shape)];
        const [g, u, d] = [gate, up, dy].map((x) => host(x));
        expectClose((await runWebGPU('EsSwiGLU', { gate, up }))[0], reference.swiglu(g, u), 'swiglu', 1e-5);
        const [dg, du] = await runWebGPU('EsSwiGLUGrad', { gate, up, dy });
        const [wg, wu] = reference.swigluGrad(g, u, d);
        expectClose(dg, wg, 'dgate', 1e-5, 4);
        expectClose(du, wu, 'dup', 1e-5);
        tf.dispose([gate, up, dy]);
      }),
      RUNS,
    );
  });

  it('EsAdamW (1e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb(), seedArb, fc.boolean(), async (shape, seed, decayed) => {
        const [param, grad, m] = [t(seed, shape), t(seed + 1, shape), t(seed + 2, shape, -0.1, 0.1)];
        const v = t(seed + 3, shape, 0, 0.01);
        const a = { lr: 3e-3, beta1: 0.9, beta2: 0.95, eps: 1e-8, decay: decayed ? 3e-3 * 0.1 : 0, c1: 0.19, c2: 0.0975 };
        const got = await runWebGPU('EsAdamW', { param, grad, m, v }, a);
        const want = reference.adamW(...([param, grad, m, v].map(host) as [Float32Array, Float32Array, Float32Array, Float32Array]), a);
        ['param', 'm', 'v'].forEach((n, i) => expectClose(got[i], want[i], n, 1e-5, i === 0 ? 2 : 0));
        tf.dispose([param, grad, m, v]);
      }),
      RUNS,
    );
  });

  it('EsRope, forward and inverse (1e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(dim(1, 3), dim(1, 3), dim(1, 9), dim(1, 6), seedArb, fc.boolean(), async (b, h, seq, half, seed, inverse) => {
        const shape = [b, h, seq, 2 * half];
        const x = t(seed, shape), cos = t(seed + 1, [seq, half], -1, 1), sin = t(seed + 2, [seq, half], -1, 1);
        const got = (await runWebGPU('EsRope', { x, cos, sin }, { inverse }))[0];
        expectClose(got, reference.rope(host(x), shape, host(cos), host(sin), inverse), 'rope', 1e-5, 2);
        tf.dispose([x, cos, sin]);
      }),
      RUNS,
    );
  });

  const rmsCase = async (n: number, d: number, seed: number) => {
    const x = t(seed, [n, d], -3, 3), weight = t(seed + 1, [d]), dy = t(seed + 2, [n, d]);
    const [xv, wv, dv] = [x, weight, dy].map((z) => host(z));
    expectClose((await runWebGPU('EsRmsNorm', { x, weight }, { eps: 1e-6 }))[0], reference.rmsNorm(xv, wv, 1e-6), 'rmsNorm', ROW_RTOL);
    const [dx, dw] = await runWebGPU('EsRmsNormGrad', { x, weight, dy }, { eps: 1e-6 });
    const [wdx, wdw] = reference.rmsNormGrad(xv, wv, dv, 1e-6);
    expectClose(dx, wdx, 'rmsNorm dx', ROW_RTOL, 4);
    expectClose(dw, wdw, 'rmsNorm dweight', ROW_RTOL, 2 * Math.sqrt(n));
    tf.dispose([x, weight, dy]);
  };

  it('EsRmsNorm and EsRmsNormGrad (2e-5)', async () => {
    await fc.assert(fc.asyncProperty(dim(0, 9), dim(1, 300), seedArb, async (n, d, seed) => rmsCase(n, d, seed)), RUNS);
    const t0 = performance.now();
    await rmsCase(70_000, 1, 7); // more rows than one dispatch dimension holds
    console.log("70000 rows", performance.now() - t0);
    await rmsCase(3, 4099, 8);
  });

  const softmaxCase = async (lead: number[], groupsOfSeq: number, seq: number, seed: number) => {
    const shape = [...lead, groupsOfSeq * seq, seq];
    const scores = t(seed, shape, -4, 4), dy = t(seed + 1, shape);
    const scale = 0.35;
    const y = (await runWebGPU('EsCausalSoftmax', { scores }, { scale }))[0];
    const want = reference.causalSoftmax(host(scores), shape, scale);
    expectClose(y, want, 'causalSoftmax', ROW_RTOL);
    for (let i = 0; i < want.length; i++) if (want[i] === 0) expect(y[i], `masked entry ${i}`).toBe(0);
    const yT = tf.tensor(want, shape);
    const dx = (await runWebGPU('EsCausalSoftmaxGrad', { y: yT, dy }, { scale }))[0];
    expectClose(dx, reference.causalSoftmaxGrad(want, host(dy), seq, scale), 'causalSoftmaxGrad', ROW_RTOL, 1);
    tf.dispose([scores, dy, yT]);
  };

  it('EsCausalSoftmax (masked entries exactly 0) and its gradient (2e-5)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(dim(1, 3), { maxLength: 2 }), dim(1, 2), dim(1, 17), seedArb, async (lead, k, seq, seed) => softmaxCase(lead, k, seq, seed)),
      RUNS,
    );
    await softmaxCase([1], 1, 300, 5);
  });

  const ceCase = async (n: number, v: number, seed: number) => {
    const logits = t(seed, [n, v], -6, 6);
    const tv = Int32Array.from(values(seed + 1, n, 0, v), (x) => Math.min(v - 1, Math.floor(x)));
    const targets = tf.tensor1d(tv, 'int32');
    const dy = t(seed + 2, [n], 0, 1);
    const [lv, dv] = [host(logits), host(dy)];
    expectClose((await runWebGPU('EsCrossEntropy', { logits, targets }))[0], reference.crossEntropy(lv, tv, v), 'crossEntropy', ROW_RTOL, 6);
    expectClose((await runWebGPU('EsCrossEntropyGrad', { logits, targets, dy }))[0], reference.crossEntropyGrad(lv, tv, dv, v), 'crossEntropyGrad', ROW_RTOL, 1);
    tf.dispose([logits, targets, dy]);
  };

  it('EsCrossEntropy and its gradient (2e-5)', async () => {
    await fc.assert(fc.asyncProperty(dim(1, 9), dim(1, 300), seedArb, async (n, v, seed) => ceCase(n, v, seed)), RUNS);
    await ceCase(2, 32000, 11);
  });

  it('EsSumSquares (2e-5 of the sum)', async () => {
    const check = async (shape: number[], seed: number) => {
      const x = t(seed, shape);
      const xv = host(x);
      let want = 0;
      for (const v of xv) want += v * v;
      expectClose(await runWebGPU('EsSumSquares', { x }).then((r) => r[0]), [want], 'sumSquares', ROW_RTOL);
      tf.dispose(x);
    };
    await fc.assert(fc.asyncProperty(shapeArb(), seedArb, async (shape, seed) => check(shape, seed)), RUNS);
    await check([0], 3);
    await check([1_000_003], 4);
  });

  it('lays out more workgroups than one dispatch dimension holds (GELU over 2^24 + 3 elements)', async () => {
    const n = 2 ** 24 + 3;
    const xv = values(5, n, -3, 3);
    const x = tf.tensor1d(xv);
    const got = (await runWebGPU('EsGelu', { x }))[0];
    expectClose(got, reference.gelu(xv), 'gelu', 1e-5);
    tf.dispose(x);
  });

  it('names the inputs it was given when they break a kernel\'s contract', () => {
    const x = tf.zeros([2, 3]), w = tf.zeros([4]);
    expect(() => tf.engine().runKernel('EsRmsNorm', { x, weight: w }, { eps: 1e-6 })).toThrowError(/EsRmsNorm: inputs outside the kernel's contract on the webgpu backend \(x: float32\[2,3\], weight: float32\[4\]\)/);
    tf.dispose([x, w]);
  });
});

describe.skipIf(!registration.ok)('MoE dispatch kernels vs moe reference', () => {
  beforeAll(async () => {
    await tf.setBackend('webgpu');
  });
  const ints = async (t: tf.Tensor) => Int32Array.from((await t.data()) as Int32Array);

  it('EsTopK (ties to the lower index) and EsGroupByExpert (with and without a capacity): exact', async () => {
    await fc.assert(
      fc.asyncProperty(dim(1, 40), dim(1, 9), dim(1, 3), fc.constantFrom(Infinity, 1, 3), fc.boolean(), seedArb, async (tokens, experts, kRaw, capacity, ties, seed) => {
        const k = Math.min(kRaw, experts);
        const lv = ties ? Float32Array.from(values(seed, tokens * experts, 0, 3), Math.floor) : values(seed, tokens * experts);
        const logits = tf.tensor2d(lv, [tokens, experts]);
        const selected = tf.engine().runKernel('EsTopK', { logits }, { k }) as tf.Tensor;
        const sel = await ints(selected);
        expect(Array.from(sel)).toEqual(Array.from(moeReference.topK(lv, tokens, experts, k)));
        const outs = tf.engine().runKernel('EsGroupByExpert', { selected }, { experts, capacity }) as tf.Tensor[];
        const want = moeReference.groupByExpert(sel, experts, k, capacity);
        expect(Array.from(await ints(outs[0]))).toEqual(Array.from(want.order));
        expect(Array.from(await ints(outs[1]))).toEqual(Array.from(want.position));
        expect(Array.from(await ints(outs[2]))).toEqual(Array.from(want.offsets));
        tf.dispose([logits, selected, ...outs]);
      }),
      RUNS,
    );
  });

  it('EsGroupedMatMul (both layouts, unused rows 0) and EsGroupedMatMulGradW (1e-5 of the terms)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(dim(0, 9), { minLength: 1, maxLength: 5 }), dim(0, 4), dim(1, 70), dim(1, 70), fc.boolean(), seedArb, async (counts, unused, inDim, out, transposeW, seed) => {
        const e = counts.length;
        const offsets = Int32Array.from([0, ...counts.map((_, i) => counts.slice(0, i + 1).reduce((a, b) => a + b, 0))]);
        const n = offsets[e] + unused;
        const x = t(seed, [n, inDim]), dy = t(seed + 1, [n, out]);
        const wShape = transposeW ? [e, inDim, out] : [e, out, inDim];
        const w = t(seed + 2, wShape);
        const off = tf.tensor1d(offsets, 'int32');
        const y = (await runWebGPU('EsGroupedMatMul', { x, w, offsets: off }, { transposeW }))[0];
        expectClose(y, moeReference.groupedMatMul(host(x), inDim, host(w), wShape, offsets, transposeW), 'groupedMatMul', 1e-5, 4 * inDim);
        const dw = (await runWebGPU('EsGroupedMatMulGradW', { x, dy, offsets: off }, { experts: e }))[0];
        expectClose(dw, moeReference.groupedMatMulGradW(host(x), inDim, host(dy), out, offsets, e), 'groupedMatMulGradW', 1e-5, 4 * Math.max(1, n));
        tf.dispose([x, dy, w, off]);
      }),
      RUNS,
    );
  });
});
