/**
 * Property tests: every ported kernel against tfjs-backend-cpu on random shapes (broadcasting,
 * transposes, empty and size-1 dims, int32 and bool where the kernel takes them).
 */
import { describe, expect, it } from 'vitest';
import { backend_util, getKernel } from '@tensorflow/tfjs-core';
import { portedKernels } from './register.js';
import {
  FC_RUNS, broadcastPairArb, errorOn, expectSame, fc, registration, seedArb, shapeArb, sizeOf, skipReason, tf, values,
} from './test-util.js';

const t = (seed: number, shape: number[], lo = -2, hi = 2) => tf.tensor(values(seed, sizeOf(shape), lo, hi), shape, 'float32');
const ti = (seed: number, shape: number[], lo = -1000, hi = 1000) =>
  tf.tensor(values(seed, sizeOf(shape), lo, hi, true), shape, 'int32');
const backendShape = (a: number[], b: number[]) => {
  try {
    return backend_util.assertAndGetBroadcastShape(a, b);
  } catch {
    return null;
  }
};
const tb = (seed: number, shape: number[]) => tf.tensor(values(seed, sizeOf(shape), 0, 2, true), shape, 'bool');

const dtypeArb = fc.constantFrom('float32', 'int32', 'bool');
const anyTensor = (seed: number, shape: number[], dtype: string) =>
  dtype === 'float32' ? t(seed, shape) : dtype === 'int32' ? ti(seed, shape) : tb(seed, shape);

describe.skipIf(!registration.ok)('native kernels vs cpu', () => {
  it('registers a native implementation for every ported kernel', () => {
    expect(skipReason).toBeNull();
    for (const name of portedKernels()) {
      const native = getKernel(name, 'native');
      expect(native, name).toBeDefined();
      expect(native!.kernelFunc, name).not.toBe(getKernel(name, 'cpu')?.kernelFunc);
    }
  });

  const binaryF32: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number, number][] = [
    ['add', tf.add, -2, 2],
    ['sub', tf.sub, -2, 2],
    ['mul', tf.mul, -2, 2],
    ['div', tf.div, -2, 2],
    ['maximum', tf.maximum, -2, 2],
    ['minimum', tf.minimum, -2, 2],
    ['squaredDifference', tf.squaredDifference, -2, 2],
    ['pow', tf.pow, 0.1, 3],
    ['prelu', tf.prelu, -2, 2],
  ];
  for (const [name, op, lo, hi] of binaryF32) {
    it(`${name} float32 with broadcasting`, () => {
      fc.assert(
        fc.property(broadcastPairArb(), seedArb, ({ a, b }, seed) => {
          expectSame(() => op(t(seed, a, lo, hi), t(seed + 1, b, lo, hi)));
        }),
        FC_RUNS,
      );
    });
  }

  const binaryI32: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add], ['sub', tf.sub], ['mul', tf.mul], ['maximum', tf.maximum], ['minimum', tf.minimum],
    ['squaredDifference', tf.squaredDifference],
  ];
  for (const [name, op] of binaryI32) {
    it(`${name} int32 with broadcasting, including overflow`, () => {
      fc.assert(
        fc.property(broadcastPairArb(), seedArb, fc.boolean(), ({ a, b }, seed, big) => {
          const r = big ? 2 ** 31 - 1 : 1000;
          expectSame(() => op(ti(seed, a, -r, r), ti(seed + 1, b, -r, r)));
        }),
        FC_RUNS,
      );
    });
  }

  const comparisons: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['equal', tf.equal], ['notEqual', tf.notEqual], ['less', tf.less], ['lessEqual', tf.lessEqual],
    ['greater', tf.greater], ['greaterEqual', tf.greaterEqual],
  ];
  for (const [name, op] of comparisons) {
    it(`${name} float32 and int32 with broadcasting`, () => {
      fc.assert(
        fc.property(broadcastPairArb(), seedArb, fc.boolean(), ({ a, b }, seed, int) => {
          // small integer ranges make ties common
          expectSame(() => (int ? op(ti(seed, a, -3, 3), ti(seed + 1, b, -3, 3)) : op(t(seed, a, -2, 2).round(), t(seed + 1, b, -2, 2).round())));
        }),
        FC_RUNS,
      );
    });
  }

  it('binary float32 propagates NaN and infinities as cpu does', () => {
    const special = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 3.5];
    const a = () => tf.tensor(special.flatMap((x) => special.map(() => x)), [8, 8]);
    const b = () => tf.tensor(special.flatMap(() => special), [8, 8]);
    for (const op of [tf.add, tf.sub, tf.mul, tf.div, tf.maximum, tf.minimum, tf.squaredDifference, tf.pow, tf.prelu, ...comparisons.map((c) => c[1])]) {
      expectSame(() => op(a(), b()));
    }
  });

  const unary: [string, (x: tf.Tensor) => tf.Tensor, number, number][] = [
    ['exp', tf.exp, -5, 5], ['log', tf.log, 0.01, 10], ['neg', tf.neg, -3, 3], ['sqrt', tf.sqrt, 0, 10],
    ['rsqrt', tf.rsqrt, 0.01, 10], ['square', tf.square, -3, 3], ['sigmoid', tf.sigmoid, -8, 8],
    ['reciprocal', tf.reciprocal, 0.1, 5], ['tanh', tf.tanh, -4, 4], ['relu', tf.relu, -3, 3],
    ['relu6', tf.relu6, -3, 9], ['elu', tf.elu, -3, 3], ['leakyRelu', (x) => tf.leakyRelu(x, 0.13), -3, 3],
    ['abs', tf.abs, -3, 3], ['softplus', tf.softplus, -20, 20], ['step', (x) => tf.step(x, 0.25), -3, 3],
    ['log1p', tf.log1p, -0.9, 5], ['expm1', tf.expm1, -3, 3], ['sin', tf.sin, -6, 6], ['cos', tf.cos, -6, 6],
  ];
  for (const [name, op, lo, hi] of unary) {
    it(`${name} float32`, () => {
      fc.assert(fc.property(shapeArb(0, 4, 6), seedArb, (shape, seed) => expectSame(() => op(t(seed, shape, lo, hi)))), {
        numRuns: 25,
      });
    });
  }

  it('unary float32 on NaN and infinities', () => {
    const x = () => tf.tensor([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 88.8, -104]);
    for (const [, op] of unary) expectSame(() => op(x()), { rtol: 1e-5, atol: 1e-30 });
  });

  it('exp (a polynomial in the addon) within 1e-6 relative of Math.exp over the whole float range', () => {
    // a dense sweep, every exponent step included, plus the edges of the finite range
    const xs = Float32Array.from({ length: 200001 }, (_, i) => -87.3 + (i * (88.7 + 87.3)) / 200000);
    const edges = Float32Array.of(88.72283, 88.7228394, -87.33654, 0, -0, 1e-7, -1e-7, 0.5, -0.5, 1, -1, 0.34657359, -0.34657359);
    for (const x of [xs, edges]) {
      tf.setBackend('native');
      const y = tf.tidy(() => tf.exp(tf.tensor1d(x)).dataSync());
      for (let i = 0; i < x.length; i++) {
        const want = Math.fround(Math.exp(x[i]));  // as a float32: above 88.7228391 that is Infinity
        if (want === Infinity ? y[i] !== want : Math.abs(y[i] - want) > 1e-6 * want) throw new Error(`exp(${x[i]}): native ${y[i]}, Math.exp ${want}`);
      }
    }
    tf.setBackend('native');
    const special = tf.tidy(() => Array.from(tf.exp(tf.tensor1d([88.73, 1000, Infinity, -88, -1000, -Infinity, NaN])).dataSync()));
    expect(special.slice(0, 3)).toEqual([Infinity, Infinity, Infinity]);
    expect(special[3]).toBeLessThan(1.2e-38);
    expect(special.slice(4)).toEqual([0, 0, NaN]);
  });

  it('sigmoid and softmax within 1e-6 relative over wide inputs', () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 40, 1), seedArb, fc.constantFrom(1, 10, 80), (shape, seed, r) => {
        expectSame(() => tf.sigmoid(t(seed, shape, -r, r)), { rtol: 1e-6, atol: 0 });
        expectSame(() => tf.softmax(t(seed, shape, -r, r)), { rtol: 1e-6, atol: 1e-30 });
      }),
      { numRuns: 40 },
    );
  });

  it('cast between float32, int32 and bool; the result is stored as its dtype', () => {
    fc.assert(
      fc.property(shapeArb(0, 3, 5), seedArb, dtypeArb, dtypeArb, (shape, seed, from, to) => {
        expectSame(() => tf.cast(anyTensor(seed, shape, from), to as 'float32'));
      }),
      FC_RUNS,
    );
    registration.ok && tf.setBackend('native');
    const x = tf.cast(tf.tensor1d([1, 2, 3], 'int32'), 'float32');
    const storage = (tf.engine().backend as unknown as { data: { get(id: object): { values: unknown } } }).data.get(x.dataId).values;
    expect(storage).toBeInstanceOf(Float32Array);
    x.dispose();
  });

  it('addN', () => {
    fc.assert(
      fc.property(shapeArb(0, 3, 5), fc.integer({ min: 1, max: 5 }), seedArb, fc.boolean(), (shape, n, seed, int) => {
        expectSame(() => tf.addN(Array.from({ length: n }, (_, i) => (int ? ti(seed + i, shape) : t(seed + i, shape)))));
      }),
      FC_RUNS,
    );
  });

  it('where / select with a broadcast condition', () => {
    fc.assert(
      fc.property(broadcastPairArb(), seedArb, fc.constantFrom('float32', 'int32', 'bool'), ({ a, b }, seed, dtype) => {
        // tf.where broadcasts the condition to the operands' shape before the kernel runs
        const mk = (s: number) => (dtype === 'float32' ? t(s, b) : dtype === 'int32' ? ti(s, b) : tb(s, b));
        const out = backendShape(a, b);
        if (!out || out.length !== b.length || out.some((d, i) => d !== b[i])) return;
        expectSame(() => tf.where(tb(seed, a), mk(seed + 1), mk(seed + 2)));
      }),
      FC_RUNS,
    );
  });

  // ---- reductions -----------------------------------------------------------------------------
  const axesArb = shapeArb(0, 4, 4).chain((shape) =>
    fc.tuple(fc.constant(shape), fc.subarray(shape.map((_, i) => i)), fc.boolean(), fc.boolean()),
  );
  const reductions: [string, (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor][] = [
    ['sum', (x, a, k) => tf.sum(x, a, k)], ['max', (x, a, k) => tf.max(x, a, k)], ['min', (x, a, k) => tf.min(x, a, k)],
    ['mean', (x, a, k) => tf.mean(x, a, k)], ['prod', (x, a, k) => tf.prod(x, a, k)],
  ];
  for (const [name, op] of reductions) {
    it(`${name} float32 over any axes, keepDims or not`, () => {
      fc.assert(
        fc.property(axesArb, seedArb, ([shape, axes, keep, negative], seed) => {
          // max/min over an empty set is not a number anyone relies on; cpu leaves it undefined
          if ((name === 'max' || name === 'min') && axes.some((ax) => shape[ax] === 0)) return;
          const ax = negative ? axes.map((a) => a - shape.length) : axes;
          expectSame(() => op(t(seed, shape, name === 'prod' ? 0.5 : -2, 2), ax.length ? ax : undefined!, keep), { rtol: 1e-5, atol: 1e-5 });
        }),
        FC_RUNS,
      );
    });
  }
  for (const [name, op] of reductions.filter(([n]) => n !== 'mean' && n !== 'prod')) {
    it(`${name} int32`, () => {
      fc.assert(
        fc.property(axesArb, seedArb, ([shape, axes, keep], seed) => {
          if (name !== 'sum' && axes.some((ax) => shape[ax] === 0)) return;
          expectSame(() => op(ti(seed, shape, -(2 ** 30), 2 ** 30), axes.length ? axes : undefined!, keep));
        }),
        FC_RUNS,
      );
    });
  }
  it('any / all on bool', () => {
    fc.assert(
      fc.property(axesArb, seedArb, ([shape, axes, keep], seed) => {
        if (axes.some((ax) => shape[ax] === 0)) return;
        expectSame(() => [tf.any(tb(seed, shape), axes, keep), tf.all(tb(seed, shape), axes, keep)]);
      }),
      FC_RUNS,
    );
  });
  it('max / min propagate NaN', () => {
    const x = () => tf.tensor([[1, NaN, 3], [4, 5, 6], [-Infinity, 2, Infinity]]);
    expectSame(() => [tf.max(x(), 1), tf.min(x(), 0), tf.sum(x(), 1), tf.max(x())]);
  });

  it('softmax over the last axis', () => {
    fc.assert(
      fc.property(shapeArb(1, 4, 7), seedArb, fc.integer({ min: 1, max: 30 }), (shape, seed, scale) => {
        expectSame(() => tf.softmax(t(seed, shape, -scale, scale)), { rtol: 1e-5, atol: 1e-7 });
      }),
      FC_RUNS,
    );
    expectSame(() => tf.softmax(tf.tensor([[0, -Infinity, 1], [NaN, 0, 1], [-Infinity, -Infinity, -Infinity]])));
  });

  // ---- matrix products ------------------------------------------------------------------------
  const matmulArb = fc.record({
    batch: broadcastPairArb(2, 3),
    m: fc.integer({ min: 0, max: 9 }),
    n: fc.integer({ min: 0, max: 9 }),
    k: fc.integer({ min: 0, max: 9 }),
    ta: fc.boolean(),
    tb: fc.boolean(),
    seed: seedArb,
  });
  type MatMulCase = { batch: { a: number[]; b: number[] }; m: number; n: number; k: number; ta: boolean; tb: boolean; seed: number };
  // cpu's BatchMatMul broadcasts batch dims only when one side has a single batch (it indexes
  // batches modulo each side's count), so the cpu reference gets both operands broadcast in full.
  const operands = ({ batch, m, n, k, ta, tb: tB, seed }: MatMulCase, broadcast = tf.getBackend() === 'cpu') => {
    let a = t(seed, [...batch.a, ...(ta ? [k, m] : [m, k])]);
    let b = t(seed + 1, [...batch.b, ...(tB ? [n, k] : [k, n])]);
    const full = backendShape(batch.a, batch.b)!;
    if (broadcast) {
      a = tf.broadcastTo(a, [...full, ...a.shape.slice(-2)]);
      b = tf.broadcastTo(b, [...full, ...b.shape.slice(-2)]);
    }
    return [a, b];
  };
  it('matMul: all transpose combinations, broadcast batch dims, empty and size-1 dims', () => {
    fc.assert(
      fc.property(matmulArb, (p) => {
        expectSame(() => {
          const [a, b] = operands(p);
          return tf.matMul(a, b, p.ta, p.tb);
        }, { rtol: 1e-4, atol: 1e-5 });
      }),
      { numRuns: 150 },
    );
  });
  it('matMul: larger products (shared weights, attention-like batches)', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[4, 33, 70], [70, 65], false, false],
      [[4, 33, 70], [65, 70], false, true],
      [[2, 3, 40, 16], [2, 3, 40, 16], false, true],
      [[2, 3, 40, 40], [2, 3, 40, 16], false, false],
      [[2, 3, 40, 16], [2, 3, 40, 40], true, false],
      [[130, 70], [130, 50], true, false],
      [[6, 130, 70], [6, 130, 50], true, false],
      // above the size where one product is split into row or column blocks over the threads
      [[300, 70], [70, 130], false, false],
      [[70, 300], [130, 70], true, true],
      [[40, 300], [300, 400], false, false],
      [[300, 40], [400, 300], true, true],
      [[3, 100, 70], [70, 130], false, false],
    ];
    for (const [as, bs, ta, tB] of cases) {
      expectSame(() => tf.matMul(t(as.length, as, -1, 1), t(bs.length + 7, bs, -1, 1), ta, tB), { rtol: 1e-4, atol: 1e-5 });
    }
  });
  it('fused matMul with bias and every activation', () => {
    fc.assert(
      fc.property(
        matmulArb,
        fc.constantFrom('linear', 'relu', 'relu6', 'elu', 'leakyrelu', 'sigmoid', 'prelu'),
        fc.constantFrom('none', 'vector', 'scalar', 'full'),
        (p, activation, biasKind) => {
          // tfjs's fused op folds batch dims into one before the kernel (so it cannot broadcast both
          // ways, on any backend): operands go in broadcast in full. Some empty shapes make the op
          // itself throw; native must then throw the same error.
          const build = () => {
            const [a, b] = operands(p, true);
            const out = tf.matMul(a, b, p.ta, p.tb);
            const biasShape = biasKind === 'vector' ? [p.n] : biasKind === 'scalar' ? [] : out.shape;
            const bias = biasKind === 'none' ? undefined : t(p.seed + 2, biasShape);
            const preluActivationWeights = activation === 'prelu' ? t(p.seed + 3, [p.n], 0, 0.5) : undefined;
            return tf.fused.matMul({
              a, b, transposeA: p.ta, transposeB: p.tb, bias, activation: activation as never,
              preluActivationWeights, leakyreluAlpha: 0.07,
            });
          };
          const cpuError = errorOn('cpu', build);
          if (cpuError !== null) expect(errorOn('native', build)).toBe(cpuError);
          else expectSame(build, { rtol: 1e-4, atol: 1e-5 });
        },
      ),
      { numRuns: 100 },
    );
  });
  it('matMul errors are the cpu errors', () => {
    const bad = () => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5]));
    expect(errorOn('native', bad)).not.toBeNull();
    expect(errorOn('native', bad)).toBe(errorOn('cpu', bad));
  });

  // ---- data movement --------------------------------------------------------------------------

  it('transpose with any permutation and dtype', () => {
    const arb = shapeArb(0, 5, 5).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, perm], seed, dtype) => {
      expectSame(() => tf.transpose(anyTensor(seed, shape, dtype), perm));
    }), { numRuns: 100 });
    // tiled path: batches of large matrices
    expectSame(() => tf.transpose(t(3, [3, 67, 45]), [0, 2, 1]));
    expectSame(() => tf.transpose(t(4, [2, 37, 3, 41]), [0, 3, 2, 1]));
  });

  it('slice', () => {
    const arb = shapeArb(1, 4, 6).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: -1, max: d - b }))))),
      ),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, bs], seed, dtype) => {
      expectSame(() => tf.slice(anyTensor(seed, shape, dtype), bs.map((x) => x[0]), bs.map((x) => x[1])));
    }), { numRuns: 100 });
  });

  it('concat along any axis, with empty inputs', () => {
    const arb = shapeArb(1, 4, 4).chain((shape) =>
      fc.tuple(
        fc.constant(shape),
        fc.nat(shape.length - 1),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
      ),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, axis, widths], seed, dtype) => {
      expectSame(() => tf.concat(widths.map((w, i) => anyTensor(seed + i, shape.map((d, j) => (j === axis ? w : d)), dtype)), axis));
    }), { numRuns: 100 });
  });

  it('split into equal parts or given sizes', () => {
    const arb = shapeArb(1, 4, 6).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.nat(shape.length - 1)).chain(([sh, axis]) =>
        fc.tuple(fc.constant(sh), fc.constant(axis), fc.array(fc.nat(sh[axis]), { minLength: 0, maxLength: 3 })),
      ),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, axis, cuts], seed, dtype) => {
      const sorted = [...cuts].sort((p, q) => p - q);
      const sizes = [...sorted, shape[axis]].map((c, i) => c - (i ? sorted[i - 1] : 0));
      expectSame(() => tf.split(anyTensor(seed, shape, dtype), sizes, axis));
      if (shape[axis] % 2 === 0 && shape[axis] > 0) expectSame(() => tf.split(anyTensor(seed, shape, dtype), 2, axis));
    }), FC_RUNS);
  });

  it('tile', () => {
    const arb = shapeArb(1, 4, 4).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, reps], seed, dtype) => {
      expectSame(() => tf.tile(anyTensor(seed, shape, dtype), reps));
    }), FC_RUNS);
  });

  it('gather along any axis, with index tensors of any rank', () => {
    const arb = shapeArb(1, 4, 5, 1).chain((shape) =>
      fc.tuple(fc.constant(shape), fc.nat(shape.length - 1), shapeArb(0, 2, 4)),
    );
    fc.assert(fc.property(arb, seedArb, dtypeArb, ([shape, axis, idxShape], seed, dtype) => {
      const indices = () => tf.tensor(values(seed + 5, sizeOf(idxShape), 0, shape[axis], true), idxShape, 'int32');
      expectSame(() => tf.gather(anyTensor(seed, shape, dtype), indices(), axis));
    }), { numRuns: 100 });
  });

  it('gather with an out-of-range index throws the cpu error', () => {
    const bad = () => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32'));
    expect(errorOn('native', bad)).not.toBeNull();
    expect(errorOn('native', bad)).toBe(errorOn('cpu', bad));
  });

  it('unsortedSegmentSum (scatter-add), ids out of range dropped', () => {
    const arb = fc.tuple(fc.integer({ min: 1, max: 12 }), shapeArb(0, 2, 5), fc.integer({ min: 1, max: 6 }));
    fc.assert(fc.property(arb, seedArb, ([n, inner, numSegments], seed) => {
      const x = () => t(seed, [n, ...inner]);
      const ids = () => tf.tensor(values(seed + 1, n, -1, numSegments + 1, true), [n], 'int32');
      expectSame(() => tf.unsortedSegmentSum(x(), ids() as tf.Tensor1D, numSegments), { rtol: 1e-5, atol: 1e-5 });
    }), FC_RUNS);
  });

  it('oneHot', () => {
    fc.assert(fc.property(shapeArb(0, 2, 6), fc.integer({ min: 2, max: 9 }), seedArb, fc.constantFrom('float32', 'int32'), (shape, depth, seed, dtype) => {
      const idx = () => tf.tensor(values(seed, sizeOf(shape), -1, depth + 1, true), shape, 'int32');
      expectSame(() => tf.oneHot(idx(), depth, 3, -2, dtype as 'float32'));
    }), FC_RUNS);
  });
});

describe.skipIf(!registration.ok)('gradients through native kernels', () => {
  it('match cpu for a small network (matMul, softmax, gather, broadcasting)', () => {
    fc.assert(fc.property(seedArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), (seed, b, d) => {
      expectSame(() => {
        const emb = t(seed, [7, d]);
        const w = t(seed + 1, [d, 5]);
        const bias = t(seed + 2, [5]);
        const ids = tf.tensor(values(seed + 3, b * 3, 0, 7, true), [b, 3], 'int32');
        const f = (e: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) => {
          const x = tf.gather(e, ids); // [b, 3, d]
          // tfjs's BatchMatMul gradient needs equal ranks, so the batch is folded into rows
          const h = tf.sigmoid(tf.add(tf.matMul(x.reshape([b * 3, d]), ww), bb)).reshape([b, 3, 5]);
          const p = tf.softmax(tf.mul(h, tf.sqrt(tf.mean(tf.square(x), -1, true))));
          return tf.sum(tf.mul(tf.log(p), tf.transpose(p, [0, 1, 2])));
        };
        const g = tf.grads(f)([emb, w, bias]);
        return [f(emb, w, bias), ...g];
      }, { rtol: 1e-4, atol: 1e-5 });
    }), { numRuns: 30 });
  });
});
