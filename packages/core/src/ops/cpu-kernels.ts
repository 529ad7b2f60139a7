import { tf } from '../tf.js';
import { kernelNames as K } from './kernel-names.js';

/**
 * Plain JavaScript implementations of the fused kernels (see kernel-names.ts) for the stock `cpu`
 * backend. They are the reference the native C++ kernels are tested against, and they spare the cpu
 * backend a dozen separate element-wise passes per operation.
 */

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

type Inputs = Record<string, tf.TensorInfo>;
const values = (backend: CpuBackendLike, t: tf.TensorInfo) => backend.data.get(t.dataId).values as Float32Array;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
// GELU's tanh form as x·σ(2z): 2z = K0·(x + CUBIC·x³)
const GELU_K0 = 2 * Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;
const geluZ2 = (x: number) => GELU_K0 * (x + GELU_CUBIC * x * x * x);

/** log Σ exp(x[o .. o+n)), computed stably. */
function rowLogSumExp(x: Float32Array, o: number, n: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, x[o + j]);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(x[o + j] - max);
  return max + Math.log(sum);
}

/** Each kernel as a pure function over typed arrays, exported for tests of other backends. */
export const reference = {
  adamW(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, a: { lr: number; beta1: number; beta2: number; eps: number; decay: number; c1: number; c2: number }) {
    const [p2, m2, v2] = [new Float32Array(p.length), new Float32Array(p.length), new Float32Array(p.length)];
    for (let i = 0; i < p.length; i++) {
      m2[i] = a.beta1 * m[i] + (1 - a.beta1) * g[i];
      v2[i] = a.beta2 * v[i] + (1 - a.beta2) * g[i] * g[i];
      p2[i] = p[i] * (1 - a.decay) - (a.lr * (m2[i] / a.c1)) / (Math.sqrt(v2[i] / a.c2) + a.eps);
    }
    return [p2, m2, v2];
  },
  swiglu(gate: Float32Array, up: Float32Array) {
    const y = new Float32Array(gate.length);
    for (let i = 0; i < y.length; i++) y[i] = gate[i] * sigmoid(gate[i]) * up[i];
    return y;
  },
  swigluGrad(gate: Float32Array, up: Float32Array, dy: Float32Array) {
    const [dg, du] = [new Float32Array(gate.length), new Float32Array(gate.length)];
    for (let i = 0; i < dg.length; i++) {
      const s = sigmoid(gate[i]);
      du[i] = dy[i] * gate[i] * s;
      dg[i] = dy[i] * up[i] * s * (1 + gate[i] * (1 - s));
    }
    return [dg, du];
  },
  gelu(x: Float32Array) {
    const y = new Float32Array(x.length);
    for (let i = 0; i < y.length; i++) y[i] = x[i] * sigmoid(geluZ2(x[i]));
    return y;
  },
  geluGrad(x: Float32Array, dy: Float32Array) {
    const dx = new Float32Array(x.length);
    for (let i = 0; i < dx.length; i++) {
      const xi = x[i];
      const s = sigmoid(geluZ2(xi));
      const q = s * (1 - s);
      dx[i] = dy[i] * (s + (q > 0 ? xi * q * GELU_K0 * (1 + 3 * GELU_CUBIC * xi * xi) : 0));
    }
    return dx;
  },
  rope(x: Float32Array, shape: number[], cos: Float32Array, sin: Float32Array, inverse: boolean) {
    const d = shape[shape.length - 1];
    const seq = shape[shape.length - 2];
    const h = d / 2;
    const sign = inverse ? -1 : 1;
    const out = new Float32Array(x.length);
    for (let row = 0; row < x.length / d; row++) {
      const t = row % seq;
      const o = row * d;
      for (let i = 0; i < h; i++) {
        const c = cos[t * h + i];
        const s = sign * sin[t * h + i];
        const x1 = x[o + i];
        const x2 = x[o + i + h];
        out[o + i] = x1 * c - x2 * s;
        out[o + i + h] = x2 * c + x1 * s;
      }
    }
    return out;
  },
  rmsNorm(x: Float32Array, w: Float32Array, eps: number) {
    const d = w.length;
    const y = new Float32Array(x.length);
    for (let o = 0; o < x.length; o += d) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[o + i] * x[o + i];
      const r = 1 / Math.sqrt(ss / d + eps);
      for (let i = 0; i < d; i++) y[o + i] = x[o + i] * r * w[i];
    }
    return y;
  },
  rmsNormGrad(x: Float32Array, w: Float32Array, dy: Float32Array, eps: number) {
    const d = w.length;
    const dx = new Float32Array(x.length);
    const dwAcc = new Float64Array(d);
    for (let o = 0; o < x.length; o += d) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += x[o + i] * x[o + i];
      const r = 1 / Math.sqrt(ss / d + eps);
      let dot = 0;
      for (let i = 0; i < d; i++) {
        const xhat = x[o + i] * r;
        dwAcc[i] += dy[o + i] * xhat;
        dot += dy[o + i] * w[i] * xhat;
      }
      const mean = dot / d;
      for (let i = 0; i < d; i++) dx[o + i] = r * (dy[o + i] * w[i] - x[o + i] * r * mean);
    }
    return [dx, Float32Array.from(dwAcc)];
  },
  causalSoftmax(s: Float32Array, shape: number[], scale: number) {
    const seq = shape[shape.length - 1];
    const rows = shape[shape.length - 2];
    const y = new Float32Array(s.length);
    for (let row = 0; row < s.length / seq; row++) {
      const o = row * seq;
      const last = (row % rows) % seq;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) max = Math.max(max, scale * s[o + j]);
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        const e = Math.exp(scale * s[o + j] - max);
        y[o + j] = e;
        sum += e;
      }
      for (let j = 0; j <= last; j++) y[o + j] /= sum;
    }
    return y;
  },
  causalSoftmaxGrad(y: Float32Array, dy: Float32Array, seq: number, scale: number) {
    const dx = new Float32Array(y.length);
    for (let o = 0; o < y.length; o += seq) {
      let dot = 0;
      for (let j = 0; j < seq; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < seq; j++) dx[o + j] = scale * y[o + j] * (dy[o + j] - dot);
    }
    return dx;
  },
  crossEntropy(logits: Float32Array, targets: Int32Array, v: number) {
    const loss = new Float32Array(targets.length);
    for (let i = 0; i < targets.length; i++) loss[i] = rowLogSumExp(logits, i * v, v) - logits[i * v + targets[i]];
    return loss;
  },
  crossEntropyGrad(logits: Float32Array, targets: Int32Array, dy: Float32Array, v: number) {
    const dl = new Float32Array(logits.length);
    for (let i = 0; i < targets.length; i++) {
      const o = i * v;
      const lse = rowLogSumExp(logits, o, v);
      for (let j = 0; j < v; j++) dl[o + j] = Math.exp(logits[o + j] - lse) * dy[i];
      dl[o + targets[i]] -= dy[i];
    }
    return dl;
  },
};

function register(kernelName: string, fn: (inputs: Inputs, backend: CpuBackendLike, attrs: Record<string, unknown>) => tf.TensorInfo | tf.TensorInfo[]) {
  if (tf.getKernel(kernelName, 'cpu')) return;
  tf.registerKernel({
    kernelName,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => fn(inputs as Inputs, backend as unknown as CpuBackendLike, (attrs ?? {}) as Record<string, unknown>),
  });
}

/** Registers every fused kernel for the `cpu` backend (idempotent). */
export function registerCpuKernels(): void {
  register(K.adamW, ({ param, grad, m, v }, b, a) => {
    const outs = reference.adamW(values(b, param), values(b, grad), values(b, m), values(b, v), a as Parameters<typeof reference.adamW>[4]);
    return outs.map((o) => b.makeTensorInfo([...param.shape], 'float32', o));
  });
  register(K.swiglu, ({ gate, up }, b) => b.makeTensorInfo([...gate.shape], 'float32', reference.swiglu(values(b, gate), values(b, up))));
  register(K.swigluGrad, ({ gate, up, dy }, b) =>
    reference.swigluGrad(values(b, gate), values(b, up), values(b, dy)).map((o) => b.makeTensorInfo([...gate.shape], 'float32', o)),
  );
  register(K.gelu, ({ x }, b) => b.makeTensorInfo([...x.shape], 'float32', reference.gelu(values(b, x))));
  register(K.geluGrad, ({ x, dy }, b) => b.makeTensorInfo([...x.shape], 'float32', reference.geluGrad(values(b, x), values(b, dy))));
  register(K.rope, ({ x, cos, sin }, b, a) =>
    b.makeTensorInfo([...x.shape], 'float32', reference.rope(values(b, x), [...x.shape], values(b, cos), values(b, sin), a.inverse === true)),
  );
  register(K.rmsNorm, ({ x, weight }, b, a) => b.makeTensorInfo([...x.shape], 'float32', reference.rmsNorm(values(b, x), values(b, weight), a.eps as number)));
  register(K.rmsNormGrad, ({ x, weight, dy }, b, a) => {
    const [dx, dw] = reference.rmsNormGrad(values(b, x), values(b, weight), values(b, dy), a.eps as number);
    return [b.makeTensorInfo([...x.shape], 'float32', dx), b.makeTensorInfo([...weight.shape], 'float32', dw)];
  });
  register(K.causalSoftmax, ({ scores }, b, a) =>
    b.makeTensorInfo([...scores.shape], 'float32', reference.causalSoftmax(values(b, scores), [...scores.shape], a.scale as number)),
  );
  register(K.causalSoftmaxGrad, ({ y, dy }, b, a) =>
    b.makeTensorInfo([...y.shape], 'float32', reference.causalSoftmaxGrad(values(b, y), values(b, dy), y.shape[y.shape.length - 1], a.scale as number)),
  );
  register(K.crossEntropy, ({ logits, targets }, b) =>
    b.makeTensorInfo([logits.shape[0]], 'float32', reference.crossEntropy(values(b, logits), values(b, targets) as unknown as Int32Array, logits.shape[1])),
  );
  register(K.crossEntropyGrad, ({ logits, targets, dy }, b) =>
    b.makeTensorInfo([...logits.shape], 'float32', reference.crossEntropyGrad(values(b, logits), values(b, targets) as unknown as Int32Array, values(b, dy), logits.shape[1])),
  );
}
