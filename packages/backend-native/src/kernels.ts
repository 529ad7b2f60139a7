/**
 * The ported kernels. Each one handles the common cases in the addon and hands anything unusual
 * (other dtypes, complex numbers, invalid arguments, whose errors cpu reports) to the cpu kernel,
 * which runs on the same storage.
 */
import {
  backend_util,
  slice_util,
  util,
  type DataType,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { isNumeric, type NativeBackend, type NumericArray } from './backend.js';

export type KernelArgs = { inputs: Record<string, TensorInfo>; backend: NativeBackend; attrs?: NamedAttrMap };
/** A ported kernel: returns null to let the cpu kernel handle the call. */
export type NativeKernel = (args: KernelArgs, fallback: KernelFunc) => TensorInfo | TensorInfo[] | null;

const size = (shape: number[]) => util.sizeFromShape(shape);

// Operation codes shared with src/native/kernels.h.
export const BinaryOp = { Add: 0, Sub: 1, Mul: 2, Div: 3, Max: 4, Min: 5, SquaredDiff: 6, Pow: 7, Prelu: 8 } as const;
export const UnaryOp = {
  Exp: 0, Log: 1, Neg: 2, Sqrt: 3, Rsqrt: 4, Square: 5, Sigmoid: 6, Reciprocal: 7, Tanh: 8, Relu: 9, Relu6: 10,
  Elu: 11, LeakyRelu: 12, Abs: 13, Softplus: 14, Step: 15, Log1p: 16, Expm1: 17, Sin: 18, Cos: 19,
} as const;
export const CompareOp = { Equal: 0, NotEqual: 1, Less: 2, LessEqual: 3, Greater: 4, GreaterEqual: 5 } as const;
export const ReduceOp = { Sum: 0, Max: 1, Min: 2, Mean: 3, Prod: 4, Any: 5, All: 6 } as const;

function broadcastShape(a: number[], b: number[]): number[] | null {
  try {
    return backend_util.assertAndGetBroadcastShape(a, b);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise

function binaryKernel(op: number, dtypes: DataType[]): NativeKernel {
  return ({ inputs, backend }) => {
    const a = inputs.a ?? inputs.x;
    const b = inputs.b ?? inputs.alpha;
    if (!a || !b || a.dtype !== b.dtype || !dtypes.includes(a.dtype)) return null;
    const outShape = broadcastShape(a.shape, b.shape);
    const av = backend.values(a), bv = backend.values(b);
    if (!outShape || !av || !bv) return null;
    const out = backend.alloc(a.dtype, size(outShape));
    backend.addon.binary(op, av, a.shape, bv, b.shape, out, outShape);
    return backend.output(outShape, a.dtype, out);
  };
}

function compareKernel(op: number): NativeKernel {
  return ({ inputs, backend }) => {
    const { a, b } = inputs;
    if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'int32')) return null;
    const outShape = broadcastShape(a.shape, b.shape);
    const av = backend.values(a), bv = backend.values(b);
    if (!outShape || !av || !bv) return null;
    const out = backend.alloc('bool', size(outShape)) as Uint8Array;
    backend.addon.compare(op, av, a.shape, bv, b.shape, out, outShape);
    return backend.output(outShape, 'bool', out);
  };
}

function unaryKernel(op: number, alphaAttr?: string, defaultAlpha = 0): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!x || x.dtype !== 'float32') return null;
    const xv = backend.values(x);
    if (!xv) return null;
    const out = backend.alloc('float32', xv.length);
    const alpha = alphaAttr ? Number(attrs?.[alphaAttr] ?? defaultAlpha) : 0;
    backend.addon.unary(op, xv, out, alpha);
    return backend.output(x.shape, 'float32', out);
  };
}

const addN: NativeKernel = ({ inputs, backend }) => {
  const tensors = inputs as unknown as TensorInfo[];
  if (!Array.isArray(tensors) || tensors.length === 0) return null;
  const { dtype, shape } = tensors[0];
  if (dtype !== 'float32' && dtype !== 'int32') return null;
  const arrays: NumericArray[] = [];
  for (const t of tensors) {
    const v = backend.values(t);
    if (!v || t.dtype !== dtype || !util.arraysEqual(t.shape, shape)) return null;
    arrays.push(v);
  }
  const out = backend.alloc(dtype, size(shape));
  backend.addon.addN(arrays, out);
  return backend.output(shape, dtype, out);
};

const select: NativeKernel = ({ inputs, backend }) => {
  const { condition, t, e } = inputs;
  if (condition.dtype !== 'bool' || t.dtype !== e.dtype || !isNumeric(t.dtype)) return null;
  if (!util.arraysEqual(t.shape, e.shape) || !util.arraysEqual(condition.shape, t.shape)) return null;
  const cv = backend.values(condition), tv = backend.values(t), ev = backend.values(e);
  if (!(cv instanceof Uint8Array) || !tv || !ev) return null;
  const out = backend.alloc(t.dtype, tv.length);
  if (tv.length > 0) backend.addon.select(cv, tv, ev, out);
  return backend.output(t.shape, t.dtype, out);
};

/**
 * cpu's Cast to a wider dtype (int32 or bool to float32, bool to int32) keeps the source array under
 * the new dtype, so a "float32" tensor can be backed by an Int32Array, which no ported kernel could
 * take. Here such casts convert, so the result is the array type of its dtype; the rest stays with cpu.
 */
const cast: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const dtype = attrs?.dtype as DataType;
  const widening = (x.dtype === 'int32' || x.dtype === 'bool') && dtype === 'float32' || (x.dtype === 'bool' && dtype === 'int32');
  if (!widening) return null;
  const v = backend.data.get(x.dataId).values as unknown;
  if (!(v instanceof Int32Array || v instanceof Uint8Array || v instanceof Float32Array)) return null;
  return backend.output(x.shape, dtype, dtype === 'float32' ? new Float32Array(v) : new Int32Array(v));
};

// ---------------------------------------------------------------------------------------------
// Matrix products

/** For each output batch index, the index of the input batch it broadcasts from (null = identity). */
function batchIndex(inBatch: number[], outBatch: number[]): Int32Array | null {
  const padded = new Array(outBatch.length - inBatch.length).fill(1).concat(inBatch) as number[];
  if (util.arraysEqual(padded, outBatch)) return null;
  const n = size(outBatch);
  const idx = new Int32Array(n);
  if (size(inBatch) === 1) return idx;
  const inStrides = util.computeStrides(padded);
  const outStrides = util.computeStrides(outBatch);
  for (let i = 0; i < n; i++) {
    let rem = i, off = 0;
    for (let d = 0; d < outBatch.length; d++) {
      const stride = d < outStrides.length ? outStrides[d] : 1;
      const coord = Math.floor(rem / stride);
      rem -= coord * stride;
      if (padded[d] !== 1) off += coord * (d < inStrides.length ? inStrides[d] : 1);
    }
    idx[i] = off;
  }
  return idx;
}

/** Batched a·b with broadcast batch dims; null when shapes do not fit (cpu then reports the error). */
function matMul(backend: NativeBackend, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length, rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const k2 = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== k2) return null;
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  const outBatch = broadcastShape(batchA, batchB);
  const av = backend.values(a), bv = backend.values(b);
  if (!outBatch || !(av instanceof Float32Array) || !(bv instanceof Float32Array)) return null;
  const batch = size(outBatch);
  const outShape = [...outBatch, m, n];
  const out = backend.alloc('float32', batch * m * n) as Float32Array;
  if (out.length > 0) {
    backend.addon.sgemm(av, bv, out, batch, m, n, k, transposeA, transposeB, batchIndex(batchA, outBatch), batchIndex(batchB, outBatch));
  }
  return { out, outShape };
}

const batchMatMul: NativeKernel = ({ inputs, backend, attrs }) => {
  const r = matMul(backend, inputs.a, inputs.b, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
  return r && backend.output(r.outShape, 'float32', r.out);
};

const fusedMatMul: NativeKernel = ({ inputs, backend, attrs }) => {
  const { a, b, bias, preluActivationWeights } = inputs;
  const activation = String(attrs?.activation ?? 'linear');
  const unaryActivations: Record<string, number> = {
    relu: UnaryOp.Relu, relu6: UnaryOp.Relu6, elu: UnaryOp.Elu, leakyrelu: UnaryOp.LeakyRelu, sigmoid: UnaryOp.Sigmoid,
  };
  if (activation !== 'linear' && activation !== 'prelu' && !(activation in unaryActivations)) return null;
  // Check the epilogue's inputs before computing anything.
  const side = [bias, activation === 'prelu' ? preluActivationWeights : undefined];
  for (const t of side) if (t && (t.dtype !== 'float32' || !backend.values(t))) return null;
  if (activation === 'prelu' && !preluActivationWeights) return null;
  const r = matMul(backend, a, b, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
  if (!r) return null;
  for (const t of side) {
    const s = t && broadcastShape(r.outShape, t.shape);
    if (t && (!s || !util.arraysEqual(s, r.outShape))) return null;
  }
  const { out, outShape } = r;
  if (bias) backend.addon.binary(BinaryOp.Add, out, outShape, backend.values(bias)!, bias.shape, out, outShape);
  if (activation === 'prelu') {
    const w = preluActivationWeights!;
    backend.addon.binary(BinaryOp.Prelu, out, outShape, backend.values(w)!, w.shape, out, outShape);
  } else if (activation !== 'linear') {
    backend.addon.unary(unaryActivations[activation], out, out, Number(attrs?.leakyreluAlpha ?? 0.2));
  }
  return backend.output(outShape, 'float32', out);
};

// ---------------------------------------------------------------------------------------------
// Reductions and softmax

/** Reduces x over `axes` (innermost or contiguous in place; otherwise after a native transpose). */
function reduceAxes(backend: NativeBackend, x: TensorInfo, axes: number[], op: number, outDtype: DataType): NumericArray | null {
  const xv = backend.values(x);
  if (!xv) return null;
  const shape = x.shape;
  const sorted = [...axes].sort((p, q) => p - q);
  const [outShape, reduceShape] = backend_util.computeOutAndReduceShapes(shape, sorted);
  const outSize = size(outShape), r = size(reduceShape);
  const out = backend.alloc(outDtype, outSize);
  if (outSize === 0) return out;
  if (r === 0) return null;
  const contiguous = sorted.every((ax, i) => i === 0 || ax === sorted[i - 1] + 1);
  if (contiguous) {
    const first = sorted.length ? sorted[0] : shape.length;
    const outer = size(shape.slice(0, first));
    const inner = size(shape.slice(first + sorted.length));
    backend.addon.reduce(op, xv, out, outer, r, inner);
    return out;
  }
  const perm = backend_util.getAxesPermutation(sorted, shape.length)!;
  const tmp = backend.alloc(x.dtype, xv.length);
  backend.addon.transpose(xv, tmp, shape, perm);
  backend.addon.reduce(op, tmp, out, outSize, r, 1);
  return out;
}

function reduceKernel(op: number, axisAttr: string, dtypes: DataType[], outDtype?: DataType): NativeKernel {
  return ({ inputs, backend, attrs }) => {
    const x = inputs.x;
    if (!dtypes.includes(x.dtype)) return null;
    const axes = util.parseAxisParam(attrs?.[axisAttr] as number | number[], x.shape);
    const dtype = outDtype ?? x.dtype;
    const out = reduceAxes(backend, x, axes, op, dtype);
    if (!out) return null;
    let [outShape] = backend_util.computeOutAndReduceShapes(x.shape, [...axes].sort((p, q) => p - q));
    if (attrs?.keepDims) outShape = backend_util.expandShapeToKeepDim(outShape, axes);
    return backend.output(outShape, dtype, out);
  };
}

const softmax: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.logits;
  const rank = x.shape.length;
  const dim = Number(attrs?.dim ?? -1);
  if (x.dtype !== 'float32' || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
  const xv = backend.values(x);
  if (!(xv instanceof Float32Array)) return null;
  const cols = x.shape[rank - 1];
  const out = backend.alloc('float32', xv.length) as Float32Array;
  if (xv.length > 0) backend.addon.softmax(xv, out, xv.length / cols, cols);
  return backend.output(x.shape, 'float32', out);
};

// ---------------------------------------------------------------------------------------------
// Data movement

const transpose: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const perm = attrs?.perm as number[];
  if (!isNumeric(x.dtype) || !perm || perm.length !== x.shape.length) return null;
  const xv = backend.values(x);
  if (!xv) return null;
  const outShape = perm.map((p) => x.shape[p]);
  const out = backend.alloc(x.dtype, xv.length);
  if (xv.length > 0) backend.addon.transpose(xv, out, x.shape, perm);
  return backend.output(outShape, x.dtype, out);
};

const slice: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  if (!isNumeric(x.dtype)) return null;
  const xv = backend.values(x);
  if (!xv) return null;
  const [begin, sz] = slice_util.parseSliceParams(x, attrs?.begin as number[], attrs?.size as number[]);
  slice_util.assertParamsValid(x, begin, sz);
  const out = backend.alloc(x.dtype, size(sz));
  if (out.length > 0) backend.addon.slice(xv, out, x.shape, begin, sz);
  return backend.output(sz, x.dtype, out);
};

const splitV: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  if (!isNumeric(x.dtype)) return null;
  const xv = backend.values(x);
  if (!xv) return null;
  const axis = util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const sizes = backend_util.prepareSplitSize(x, attrs?.numOrSizeSplits as number | number[], axis);
  const begin = new Array(x.shape.length).fill(0);
  return sizes.map((s) => {
    const sz = x.shape.slice();
    sz[axis] = s;
    const out = backend.alloc(x.dtype, size(sz));
    if (out.length > 0) backend.addon.slice(xv, out, x.shape, begin, sz);
    begin[axis] += s;
    return backend.output(sz, x.dtype, out);
  });
};

const concat: NativeKernel = ({ inputs, backend, attrs }) => {
  const tensors = inputs as unknown as TensorInfo[];
  if (!Array.isArray(tensors) || tensors.length === 0) return null;
  const dtype = tensors[0].dtype;
  if (!isNumeric(dtype) || tensors.some((t) => t.dtype !== dtype)) return null;
  const axis = util.parseAxisParam(attrs?.axis as number, tensors[0].shape)[0];
  const shapes = tensors.map((t) => t.shape);
  backend_util.assertParamsConsistent(shapes, axis);
  const outShape = backend_util.computeOutShape(shapes, axis);
  const out = backend.alloc(dtype, size(outShape));
  if (out.length > 0) {
    const outer = size(outShape.slice(0, axis));
    const arrays: NumericArray[] = [], inner: number[] = [];
    for (const t of tensors) {
      const v = backend.values(t);
      if (!v) return null;
      if (v.length === 0) continue;
      arrays.push(v);
      inner.push(v.length / outer);
    }
    backend.addon.concat(arrays, inner, out, outer);
  }
  return backend.output(outShape, dtype, out);
};

const tile: NativeKernel = ({ inputs, backend, attrs }) => {
  const x = inputs.x;
  const reps = attrs?.reps as number[];
  if (!isNumeric(x.dtype) || !reps || reps.length !== x.shape.length || x.shape.length === 0) return null;
  const xv = backend.values(x);
  if (!xv) return null;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.alloc(x.dtype, size(outShape));
  if (out.length > 0) backend.addon.tile(xv, out, x.shape, reps);
  return backend.output(outShape, x.dtype, out);
};

const gatherV2: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, indices } = inputs;
  if (!isNumeric(x.dtype) || indices.dtype !== 'int32' || Number(attrs?.batchDims ?? 0) !== 0) return null;
  const xv = backend.values(x), iv = backend.values(indices);
  if (!xv || !(iv instanceof Int32Array)) return null;
  const axis = util.parseAxisParam(attrs?.axis as number, x.shape)[0];
  const outShape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const out = backend.alloc(x.dtype, size(outShape));
  const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1));
  if (out.length > 0 || iv.length > 0) {
    if (x.shape[axis] === 0 && iv.length > 0) return null;
    if (outer * inner > 0 && backend.addon.gather(xv, iv, out, outer, x.shape[axis], inner) !== -1) return null;
    if (outer * inner === 0 && iv.some((i) => i < 0 || i >= x.shape[axis])) return null;
  }
  return backend.output(outShape, x.dtype, out);
};

const unsortedSegmentSum: NativeKernel = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs;
  const numSegments = Number(attrs?.numSegments);
  // (cpu returns float32 for int32 input; that case stays with cpu)
  if (x.dtype !== 'float32' || segmentIds.dtype !== 'int32') return null;
  const idShape = segmentIds.shape;
  if (idShape.length === 0 || !util.arraysEqual(x.shape.slice(0, idShape.length), idShape)) return null;
  const xv = backend.values(x), iv = backend.values(segmentIds);
  if (!xv || !(iv instanceof Int32Array) || iv.length === 0) return null;
  const outShape = [numSegments, ...x.shape.slice(idShape.length)];
  const out = backend.alloc(x.dtype, size(outShape));
  if (xv.length > 0) backend.addon.segmentSum(xv, iv, out, numSegments);
  return backend.output(outShape, x.dtype, out);
};

const oneHot: NativeKernel = ({ inputs, backend, attrs }) => {
  const { indices } = inputs;
  const depth = Number(attrs?.depth);
  const dtype = (attrs?.dtype as DataType) ?? 'int32';
  if (indices.dtype !== 'int32' || (dtype !== 'float32' && dtype !== 'int32') || !(depth >= 0)) return null;
  const iv = backend.values(indices);
  if (!(iv instanceof Int32Array)) return null;
  const out = backend.alloc(dtype, iv.length * depth);
  if (out.length > 0) backend.addon.oneHot(iv, out, depth, Number(attrs?.onValue ?? 1), Number(attrs?.offValue ?? 0));
  return backend.output([...indices.shape, depth], dtype, out);
};

// ---------------------------------------------------------------------------------------------

const F32: DataType[] = ['float32'];
const NUM: DataType[] = ['float32', 'int32'];

/** Kernel name → ported implementation. */
export const NATIVE_KERNELS: Record<string, NativeKernel> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Add: binaryKernel(BinaryOp.Add, NUM),
  Sub: binaryKernel(BinaryOp.Sub, NUM),
  Multiply: binaryKernel(BinaryOp.Mul, NUM),
  RealDiv: binaryKernel(BinaryOp.Div, F32),
  Maximum: binaryKernel(BinaryOp.Max, NUM),
  Minimum: binaryKernel(BinaryOp.Min, NUM),
  SquaredDifference: binaryKernel(BinaryOp.SquaredDiff, NUM),
  Pow: binaryKernel(BinaryOp.Pow, F32),
  Prelu: binaryKernel(BinaryOp.Prelu, F32),
  AddN: addN,
  Cast: cast,
  Equal: compareKernel(CompareOp.Equal),
  NotEqual: compareKernel(CompareOp.NotEqual),
  Less: compareKernel(CompareOp.Less),
  LessEqual: compareKernel(CompareOp.LessEqual),
  Greater: compareKernel(CompareOp.Greater),
  GreaterEqual: compareKernel(CompareOp.GreaterEqual),
  Select: select,
  Exp: unaryKernel(UnaryOp.Exp),
  Log: unaryKernel(UnaryOp.Log),
  Neg: unaryKernel(UnaryOp.Neg),
  Sqrt: unaryKernel(UnaryOp.Sqrt),
  Rsqrt: unaryKernel(UnaryOp.Rsqrt),
  Square: unaryKernel(UnaryOp.Square),
  Sigmoid: unaryKernel(UnaryOp.Sigmoid),
  Reciprocal: unaryKernel(UnaryOp.Reciprocal),
  Tanh: unaryKernel(UnaryOp.Tanh),
  Relu: unaryKernel(UnaryOp.Relu),
  Relu6: unaryKernel(UnaryOp.Relu6),
  Elu: unaryKernel(UnaryOp.Elu),
  LeakyRelu: unaryKernel(UnaryOp.LeakyRelu, 'alpha', 0.2),
  Abs: unaryKernel(UnaryOp.Abs),
  Softplus: unaryKernel(UnaryOp.Softplus),
  Step: unaryKernel(UnaryOp.Step, 'alpha', 0),
  Log1p: unaryKernel(UnaryOp.Log1p),
  Expm1: unaryKernel(UnaryOp.Expm1),
  Sin: unaryKernel(UnaryOp.Sin),
  Cos: unaryKernel(UnaryOp.Cos),
  Sum: reduceKernel(ReduceOp.Sum, 'axis', NUM),
  Max: reduceKernel(ReduceOp.Max, 'reductionIndices', NUM),
  Min: reduceKernel(ReduceOp.Min, 'axis', NUM),
  Mean: reduceKernel(ReduceOp.Mean, 'axis', F32),
  Prod: reduceKernel(ReduceOp.Prod, 'axis', F32),
  Any: reduceKernel(ReduceOp.Any, 'axis', ['bool']),
  All: reduceKernel(ReduceOp.All, 'axis', ['bool']),
  Softmax: softmax,
  Transpose: transpose,
  Slice: slice,
  Concat: concat,
  SplitV: splitV,
  Tile: tile,
  GatherV2: gatherV2,
  UnsortedSegmentSum: unsortedSegmentSum,
  OneHot: oneHot,
};
