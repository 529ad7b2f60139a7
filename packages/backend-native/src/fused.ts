/**
 * The project's fused kernels (names and semantics: packages/core/src/ops/kernel-names.ts) in the
 * addon. Gradients are not registered here: core registers them for these kernel names.
 *
 * Inputs the addon cannot take (another dtype or storage type, shapes that break the spec) go to the
 * `cpu` implementation of the same kernel when core has registered one, and are an error otherwise.
 */
import { getKernel, util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeBackend } from './backend.js';
import type { KernelArgs } from './kernels.js';

/** Kernel names shared with core (kernel-names.ts); core is not a dependency of this package. */
export const FusedKernelNames = {
  adamW: 'EsAdamW',
  swiglu: 'EsSwiGLU',
  swigluGrad: 'EsSwiGLUGrad',
  gelu: 'EsGelu',
  geluGrad: 'EsGeluGrad',
  rope: 'EsRope',
  rmsNorm: 'EsRmsNorm',
  rmsNormGrad: 'EsRmsNormGrad',
  causalSoftmax: 'EsCausalSoftmax',
  causalSoftmaxGrad: 'EsCausalSoftmaxGrad',
  crossEntropy: 'EsCrossEntropy',
  crossEntropyGrad: 'EsCrossEntropyGrad',
} as const;

type FusedKernel = (args: KernelArgs) => TensorInfo | TensorInfo[] | null;

const size = (shape: number[]) => util.sizeFromShape(shape);

/** The Float32Array behind a float32 tensor, or null. */
function f32(backend: NativeBackend, t: TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const v = backend.values(t);
  return v instanceof Float32Array ? v : null;
}

/** int32 targets as an Int32Array (converted when a cpu kernel left them in another array type). */
function i32(backend: NativeBackend, t: TensorInfo | undefined): Int32Array | null {
  if (!t || t.dtype !== 'int32') return null;
  const v = backend.data.get(t.dataId).values as unknown;
  if (v instanceof Int32Array) return v;
  return v instanceof Float32Array || v instanceof Uint8Array ? Int32Array.from(v) : null;
}

const same = (a: TensorInfo, b: TensorInfo) => util.arraysEqual(a.shape, b.shape);
const num = (attrs: KernelArgs['attrs'], name: string) => Number(attrs?.[name]);

const adamW: FusedKernel = ({ inputs: { param, grad, m, v }, backend, attrs }) => {
  const pv = f32(backend, param), gv = f32(backend, grad), mv = f32(backend, m), vv = f32(backend, v);
  if (!pv || !gv || !mv || !vv || !same(param, grad) || !same(param, m) || !same(param, v)) return null;
  const outs = [0, 1, 2].map(() => backend.alloc('float32', pv.length) as Float32Array);
  if (pv.length > 0) {
    backend.addon.adamW(pv, gv, mv, vv, outs[0], outs[1], outs[2], num(attrs, 'lr'), num(attrs, 'beta1'), num(attrs, 'beta2'),
      num(attrs, 'eps'), num(attrs, 'decay'), num(attrs, 'c1'), num(attrs, 'c2'));
  }
  return outs.map((o) => backend.output([...param.shape], 'float32', o));
};

const swiglu: FusedKernel = ({ inputs: { gate, up }, backend }) => {
  const gv = f32(backend, gate), uv = f32(backend, up);
  if (!gv || !uv || !same(gate, up)) return null;
  const out = backend.alloc('float32', gv.length) as Float32Array;
  if (gv.length > 0) backend.addon.swiglu(gv, uv, out);
  return backend.output([...gate.shape], 'float32', out);
};

const swigluGrad: FusedKernel = ({ inputs: { gate, up, dy }, backend }) => {
  const gv = f32(backend, gate), uv = f32(backend, up), dv = f32(backend, dy);
  if (!gv || !uv || !dv || !same(gate, up) || !same(gate, dy)) return null;
  const dgate = backend.alloc('float32', gv.length) as Float32Array;
  const dup = backend.alloc('float32', gv.length) as Float32Array;
  if (gv.length > 0) backend.addon.swigluGrad(gv, uv, dv, dgate, dup);
  return [backend.output([...gate.shape], 'float32', dgate), backend.output([...gate.shape], 'float32', dup)];
};

const gelu: FusedKernel = ({ inputs: { x }, backend }) => {
  const xv = f32(backend, x);
  if (!xv) return null;
  const out = backend.alloc('float32', xv.length) as Float32Array;
  if (xv.length > 0) backend.addon.gelu(xv, out);
  return backend.output([...x.shape], 'float32', out);
};

const geluGrad: FusedKernel = ({ inputs: { x, dy }, backend }) => {
  const xv = f32(backend, x), dv = f32(backend, dy);
  if (!xv || !dv || !same(x, dy)) return null;
  const dx = backend.alloc('float32', xv.length) as Float32Array;
  if (xv.length > 0) backend.addon.geluGrad(xv, dv, dx);
  return backend.output([...x.shape], 'float32', dx);
};

const rope: FusedKernel = ({ inputs: { x, cos, sin }, backend, attrs }) => {
  const xv = f32(backend, x), cv = f32(backend, cos), sv = f32(backend, sin);
  const r = x?.shape.length ?? 0;
  if (!xv || !cv || !sv || r < 2) return null;
  const seq = x.shape[r - 2], d = x.shape[r - 1];
  if (d % 2 !== 0 || !util.arraysEqual(cos.shape, [seq, d / 2]) || !same(cos, sin)) return null;
  const out = backend.alloc('float32', xv.length) as Float32Array;
  if (xv.length > 0) backend.addon.rope(xv, cv, sv, out, seq, d, attrs?.inverse === true);
  return backend.output([...x.shape], 'float32', out);
};

const rmsNorm: FusedKernel = ({ inputs: { x, weight }, backend, attrs }) => {
  const xv = f32(backend, x), wv = f32(backend, weight);
  if (!xv || !wv || x.shape.length !== 2 || !util.arraysEqual(weight.shape, [x.shape[1]])) return null;
  const out = backend.alloc('float32', xv.length) as Float32Array;
  if (xv.length > 0) backend.addon.rmsNorm(xv, wv, out, x.shape[1], num(attrs, 'eps'));
  return backend.output([...x.shape], 'float32', out);
};

const rmsNormGrad: FusedKernel = ({ inputs: { x, weight, dy }, backend, attrs }) => {
  const xv = f32(backend, x), wv = f32(backend, weight), dv = f32(backend, dy);
  if (!xv || !wv || !dv || x.shape.length !== 2 || !same(x, dy) || !util.arraysEqual(weight.shape, [x.shape[1]])) return null;
  const d = x.shape[1];
  const dx = backend.alloc('float32', xv.length) as Float32Array;
  const dw = backend.alloc('float32', d) as Float32Array;
  if (d > 0) {
    if (xv.length > 0) backend.addon.rmsNormGrad(xv, wv, dv, dx, dw, d, num(attrs, 'eps'));
    else dw.fill(0);
  }
  return [backend.output([...x.shape], 'float32', dx), backend.output([...weight.shape], 'float32', dw)];
};

const causalSoftmax: FusedKernel = ({ inputs: { scores }, backend, attrs }) => {
  const sv = f32(backend, scores);
  const r = scores?.shape.length ?? 0;
  if (!sv || r < 2) return null;
  const seq = scores.shape[r - 1], rows = scores.shape[r - 2];
  if (seq > 0 && rows % seq !== 0) return null;
  const out = backend.alloc('float32', sv.length) as Float32Array;
  if (sv.length > 0) backend.addon.causalSoftmax(sv, out, seq, num(attrs, 'scale'));
  return backend.output([...scores.shape], 'float32', out);
};

const causalSoftmaxGrad: FusedKernel = ({ inputs: { y, dy }, backend, attrs }) => {
  const yv = f32(backend, y), dv = f32(backend, dy);
  if (!yv || !dv || y.shape.length < 1 || !same(y, dy)) return null;
  const out = backend.alloc('float32', yv.length) as Float32Array;
  if (yv.length > 0) backend.addon.causalSoftmaxGrad(yv, dv, out, y.shape[y.shape.length - 1], num(attrs, 'scale'));
  return backend.output([...y.shape], 'float32', out);
};

const crossEntropy: FusedKernel = ({ inputs: { logits, targets }, backend }) => {
  const lv = f32(backend, logits), tv = i32(backend, targets);
  if (!lv || !tv || logits.shape.length !== 2 || !util.arraysEqual(targets.shape, [logits.shape[0]])) return null;
  const [n, v] = logits.shape;
  const loss = backend.alloc('float32', n) as Float32Array;
  if (n > 0) {
    if (v === 0) return null;
    backend.addon.crossEntropy(lv, tv, loss, v);
  }
  return backend.output([n], 'float32', loss);
};

const crossEntropyGrad: FusedKernel = ({ inputs: { logits, targets, dy }, backend }) => {
  const lv = f32(backend, logits), tv = i32(backend, targets), dv = f32(backend, dy);
  if (!lv || !tv || !dv || logits.shape.length !== 2) return null;
  const [n, v] = logits.shape;
  if (!util.arraysEqual(targets.shape, [n]) || !util.arraysEqual(dy.shape, [n])) return null;
  const out = backend.alloc('float32', n * v) as Float32Array;
  if (out.length > 0) backend.addon.crossEntropyGrad(lv, tv, dv, out, v);
  return backend.output([n, v], 'float32', out);
};

const FUSED: Record<string, FusedKernel> = {
  [FusedKernelNames.adamW]: adamW,
  [FusedKernelNames.swiglu]: swiglu,
  [FusedKernelNames.swigluGrad]: swigluGrad,
  [FusedKernelNames.gelu]: gelu,
  [FusedKernelNames.geluGrad]: geluGrad,
  [FusedKernelNames.rope]: rope,
  [FusedKernelNames.rmsNorm]: rmsNorm,
  [FusedKernelNames.rmsNormGrad]: rmsNormGrad,
  [FusedKernelNames.causalSoftmax]: causalSoftmax,
  [FusedKernelNames.causalSoftmaxGrad]: causalSoftmaxGrad,
  [FusedKernelNames.crossEntropy]: crossEntropy,
  [FusedKernelNames.crossEntropyGrad]: crossEntropyGrad,
};

export const FUSED_KERNEL_NAMES: string[] = Object.keys(FUSED);

/**
 * The kernelFunc for backend 'native': the addon, or (for inputs it does not take) the cpu kernel of
 * the same name, looked up at call time so that it works whichever of core and this package loads first.
 */
export function fusedKernelFunc(name: string, markAliases: (args: KernelArgs, out: TensorInfo | TensorInfo[]) => void): KernelFunc {
  const native = FUSED[name];
  return (args) => {
    const out = native(args as unknown as KernelArgs);
    if (out) return out;
    const cpu = getKernel(name, 'cpu');
    if (!cpu) {
      const shapes = Object.entries(args.inputs).map(([k, t]) => `${k}: ${(t as TensorInfo).dtype}[${(t as TensorInfo).shape}]`).join(', ');
      throw new Error(`${name}: inputs not supported by the native backend (${shapes})`);
    }
    const res = cpu.kernelFunc(args) as TensorInfo | TensorInfo[];
    markAliases(args as unknown as KernelArgs, res);
    return res;
  };
}

