/**
 * The project's fused kernels for backend 'webgpu' (names and semantics: core's src/ops/kernel-names.ts;
 * core registers their gradients). Inputs outside a kernel's contract are an error that names them.
 */
import { getKernel, registerKernel, unregisterKernel, util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { adamW, gelu, geluGrad, swiglu, swigluGrad, type AdamWAttrs } from './elementwise.js';
import { causalSoftmax, causalSoftmaxGrad, crossEntropy, crossEntropyGrad, rmsNorm, rmsNormGrad, rope, sumSquares } from './rows.js';
import { internals, storedAsF32 } from './run.js';
import { groupByExpert, groupedMatMul, groupedMatMulGradW, MAX_EXPERTS, topK } from './moe.js';

type Inputs = Record<string, TensorInfo>;
type Attrs = Record<string, unknown>;
type Kernel = (inputs: Inputs, backend: unknown, attrs: Attrs) => TensorInfo | TensorInfo[] | null;

const same = (a: TensorInfo, b: TensorInfo) => util.arraysEqual(a.shape, b.shape);
const size = (t: TensorInfo) => util.sizeFromShape(t.shape);
/** A tensor of zeros made on the host (no dispatch; uploaded when first used). */
const zeros = (backend: unknown, shape: number[]) => internals(backend).makeTensorInfo(shape, 'float32', new Float32Array(util.sizeFromShape(shape)));

const KERNELS: Record<string, Kernel> = {
  EsGelu: ({ x }, b) => (storedAsF32(b, x) ? gelu(b, x) : null),
  EsGeluGrad: ({ x, dy }, b) => (storedAsF32(b, x, dy) && same(x, dy) ? geluGrad(b, x, dy) : null),
  EsSwiGLU: ({ gate, up }, b) => (storedAsF32(b, gate, up) && same(gate, up) ? swiglu(b, gate, up) : null),
  EsSwiGLUGrad: ({ gate, up, dy }, b) => (storedAsF32(b, gate, up, dy) && same(gate, up) && same(gate, dy) ? swigluGrad(b, gate, up, dy) : null),
  EsAdamW: ({ param, grad, m, v }, b, a) =>
    storedAsF32(b, param, grad, m, v) && same(param, grad) && same(param, m) && same(param, v) ? adamW(b, param, grad, m, v, a as unknown as AdamWAttrs) : null,
  EsRope: ({ x, cos, sin }, b, a) => {
    const r = x?.shape.length ?? 0;
    if (!storedAsF32(b, x, cos, sin) || r < 2) return null;
    const seq = x.shape[r - 2], d = x.shape[r - 1];
    if (d % 2 !== 0 || !util.arraysEqual(cos.shape, [seq, d / 2]) || !same(cos, sin)) return null;
    return rope(b, x, cos, sin, a.inverse === true);
  },
  EsRmsNorm: ({ x, weight }, b, a) =>
    storedAsF32(b, x, weight) && x.shape.length === 2 && util.arraysEqual(weight.shape, [x.shape[1]]) ? rmsNorm(b, x, weight, Number(a.eps)) : null,
  EsRmsNormGrad: ({ x, weight, dy }, b, a) => {
    if (!storedAsF32(b, x, weight, dy) || x.shape.length !== 2 || !same(x, dy) || !util.arraysEqual(weight.shape, [x.shape[1]])) return null;
    if (size(x) === 0) return [zeros(b, [...x.shape]), zeros(b, [...weight.shape])];
    return rmsNormGrad(b, x, weight, dy, Number(a.eps));
  },
  EsCausalSoftmax: ({ scores }, b, a) => {
    const r = scores?.shape.length ?? 0;
    if (!storedAsF32(b, scores) || r < 2) return null;
    const seq = scores.shape[r - 1], rows = scores.shape[r - 2];
    if (seq > 0 && rows % seq !== 0) return null;
    return causalSoftmax(b, scores, Number(a.scale));
  },
  EsCausalSoftmaxGrad: ({ y, dy }, b, a) => (storedAsF32(b, y, dy) && y.shape.length >= 1 && same(y, dy) ? causalSoftmaxGrad(b, y, dy, Number(a.scale)) : null),
  EsCrossEntropy: ({ logits, targets }, b) => {
    if (!storedAsF32(b, logits) || targets?.dtype !== 'int32' || logits.shape.length !== 2 || !util.arraysEqual(targets.shape, [logits.shape[0]])) return null;
    if (logits.shape[0] > 0 && logits.shape[1] === 0) return null;
    return crossEntropy(b, logits, targets);
  },
  EsCrossEntropyGrad: ({ logits, targets, dy }, b) => {
    if (!storedAsF32(b, logits, dy) || targets?.dtype !== 'int32' || logits.shape.length !== 2) return null;
    const [n] = logits.shape;
    if (!util.arraysEqual(targets.shape, [n]) || !util.arraysEqual(dy.shape, [n])) return null;
    return crossEntropyGrad(b, logits, targets, dy);
  },
  EsTopK: ({ logits }, b, a) => {
    const k = Number(a.k);
    if (!storedAsF32(b, logits) || logits.shape.length !== 2 || !(k >= 1 && k <= logits.shape[1])) return null;
    return topK(b, logits, k);
  },
  EsGroupByExpert: ({ selected }, b, a) => {
    const experts = Number(a.experts), capacity = Number(a.capacity);
    if (selected?.dtype !== 'int32' || selected.shape.length !== 2 || !(experts >= 1 && experts <= MAX_EXPERTS) || !(capacity > 0)) return null;
    if (size(selected) === 0) {
      const m = internals(b);
      return [m.makeTensorInfo([0], 'int32', new Int32Array(0)), m.makeTensorInfo([0], 'int32', new Int32Array(0)), m.makeTensorInfo([experts + 1], 'int32', new Int32Array(experts + 1))];
    }
    return groupByExpert(b, selected, experts, capacity);
  },
  EsGroupedMatMul: ({ x, w, offsets }, b, a) => {
    if (!storedAsF32(b, x, w) || offsets?.dtype !== 'int32' || x.shape.length !== 2 || w.shape.length !== 3) return null;
    const inner = a.transposeW === true ? w.shape[1] : w.shape[2];
    if (inner !== x.shape[1] || !util.arraysEqual(offsets.shape, [w.shape[0] + 1]) || x.shape[0] > 4 * 16384 * 65535) return null;
    return groupedMatMul(b, x, w, offsets, a.transposeW === true);
  },
  EsGroupedMatMulGradW: ({ x, dy, offsets }, b, a) => {
    const experts = Number(a.experts);
    if (!storedAsF32(b, x, dy) || offsets?.dtype !== 'int32' || x.shape.length !== 2 || dy.shape.length !== 2 || x.shape[0] !== dy.shape[0]) return null;
    if (!util.arraysEqual(offsets.shape, [experts + 1]) || experts > 65535) return null;
    if (size(x) === 0 || size(dy) === 0) return zeros(b, [experts, dy.shape[1], x.shape[1]]);
    return groupedMatMulGradW(b, x, dy, offsets, experts);
  },
  EsSumSquares: ({ x }, b) => {
    if (!storedAsF32(b, x)) return null;
    return size(x) === 0 ? zeros(b, []) : sumSquares(b, x);
  },
};

/** The names of the project's kernels that run as WGSL on backend 'webgpu'. */
export const webgpuKernelNames: string[] = Object.keys(KERNELS).sort();

function kernelFunc(name: string, kernel: Kernel): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const out = kernel(inputs as Inputs, backend, (attrs ?? {}) as Attrs);
    if (out) return out;
    const shapes = Object.entries(inputs).map(([k, t]) => `${k}: ${(t as TensorInfo).dtype}[${(t as TensorInfo).shape}]`).join(', ');
    throw new Error(`${name}: inputs outside the kernel's contract on the webgpu backend (${shapes})`);
  };
}

/** Registers every kernel for 'webgpu' (replacing earlier registrations of the same names). */
export function registerWebGPUKernels(): void {
  for (const [name, kernel] of Object.entries(KERNELS)) {
    if (getKernel(name, 'webgpu')) unregisterKernel(name, 'webgpu');
    registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: kernelFunc(name, kernel) });
  }
}
