import { tf } from '../tf.js';
import { kernelNames, optionalKernelNames } from './kernel-names.js';
import { registerCpuKernels } from './cpu-kernels.js';
import { envVar } from '../env.js';

/**
 * The model's fused operations. Each runs as one kernel where the active backend has it (the stock cpu
 * backend gets core's JavaScript kernels, `native` its C++ ones) and otherwise as a composition of stock
 * tfjs ops with the same result, so any tfjs backend still works.
 */

registerCpuKernels();

const K = { ...kernelNames, ...optionalKernelNames };

// EFFICIENTSCALE_FUSED=0 runs the stock-op compositions everywhere (to measure what fusion buys).
let fusedEnabled = envVar('EFFICIENTSCALE_FUSED') !== '0';

/** Turns the fused kernels off (tests compare both paths). */
export function setFusedKernels(enabled: boolean): void {
  fusedEnabled = enabled;
}

const fused = (name: string) => fusedEnabled && tf.getKernel(name, tf.getBackend()) !== undefined;
const run = (name: string, inputs: tf.NamedTensorMap, attrs: Record<string, unknown> = {}) =>
  tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap);

const registerGradient = (config: tf.GradConfig) => {
  if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
};

registerGradient({
  kernelName: K.swiglu,
  inputsToSave: ['gate', 'up'],
  gradFunc: (dy, saved) => {
    const [dgate, dup] = run(K.swigluGrad, { gate: saved[0], up: saved[1], dy: dy as tf.Tensor }) as tf.Tensor[];
    return { gate: () => dgate, up: () => dup };
  },
});

registerGradient({
  kernelName: K.gelu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => ({ x: () => run(K.geluGrad, { x: saved[0], dy: dy as tf.Tensor }) as tf.Tensor }),
});

registerGradient({
  kernelName: K.rope,
  inputsToSave: ['cos', 'sin'],
  gradFunc: (dy, saved, attrs) => ({
    x: () => run(K.rope, { x: dy as tf.Tensor, cos: saved[0], sin: saved[1] }, { inverse: !(attrs as { inverse?: boolean }).inverse }) as tf.Tensor,
    cos: () => tf.zerosLike(saved[0]),
    sin: () => tf.zerosLike(saved[1]),
  }),
});

registerGradient({
  kernelName: K.rmsNorm,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, saved, attrs) => {
    const [dx, dweight] = run(K.rmsNormGrad, { x: saved[0], weight: saved[1], dy: dy as tf.Tensor }, { eps: (attrs as { eps: number }).eps }) as tf.Tensor[];
    return { x: () => dx, weight: () => dweight };
  },
});

registerGradient({
  kernelName: K.causalSoftmax,
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => ({
    scores: () => run(K.causalSoftmaxGrad, { y: saved[0], dy: dy as tf.Tensor }, { scale: (attrs as { scale: number }).scale }) as tf.Tensor,
  }),
});

registerGradient({
  kernelName: K.crossEntropy,
  inputsToSave: ['logits', 'targets'],
  gradFunc: (dy, saved) => ({
    logits: () => run(K.crossEntropyGrad, { logits: saved[0], targets: saved[1], dy: dy as tf.Tensor }) as tf.Tensor,
    targets: () => tf.zerosLike(saved[1]),
  }),
});

/** silu(gate)·up, the SwiGLU gate. */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  if (fused(K.swiglu)) return run(K.swiglu, { gate, up }) as tf.Tensor2D;
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}

const GELU_K0 = 2 * Math.sqrt(2 / Math.PI);
const GELU_K1 = GELU_K0 * 0.044715;

/**
 * GELU in its tanh form, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715x³))) (Hugging Face's gelu_new, PyTorch's
 * approximate='tanh'; within 1e-3 of the erf form). Without the fused kernel: x·σ(2z), 5 stock passes.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  if (fused(K.gelu)) return run(K.gelu, { x }) as T;
  return tf.mul(x, tf.sigmoid(tf.mul(x, tf.add(GELU_K0, tf.mul(GELU_K1, tf.square(x)))))) as T;
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor, eps: number): tf.Tensor2D {
  if (fused(K.rmsNorm)) return run(K.rmsNorm, { x, weight }, { eps }) as tf.Tensor2D;
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), weight);
}

/** Rotary position embedding of x [b, h, seq, d] (pairs i and i + d/2, as Hugging Face Llama rotates them). */
export function rope(x: tf.Tensor4D, cos: tf.Tensor2D, sin: tf.Tensor2D): tf.Tensor4D {
  if (fused(K.rope)) return run(K.rope, { x, cos, sin }, { inverse: false }) as tf.Tensor4D;
  const half = x.shape[3] / 2;
  const [x1, x2] = tf.split(x, [half, half], 3);
  return tf.concat([tf.sub(tf.mul(x1, cos), tf.mul(x2, sin)), tf.add(tf.mul(x2, cos), tf.mul(x1, sin))], 3) as tf.Tensor4D;
}

/** Additive causal mask for query rows grouped [rows/seq blocks of seq] against seq keys. */
function causalMask(rows: number, seq: number): tf.Tensor2D {
  const mask = new Float32Array(rows * seq);
  for (let r = 0; r < rows; r++) for (let j = (r % seq) + 1; j < seq; j++) mask[r * seq + j] = -1e9;
  return tf.tensor2d(mask, [rows, seq]);
}

/** softmax(scale·scores) over keys a query may see (key ≤ its position); scores [..., rows, seq]. */
export function causalSoftmax(scores: tf.Tensor, scale: number): tf.Tensor {
  if (fused(K.causalSoftmax)) return run(K.causalSoftmax, { scores }, { scale }) as tf.Tensor;
  const [rows, seq] = scores.shape.slice(-2);
  return tf.tidy(() => tf.softmax(tf.add(tf.mul(scores, scale), causalMask(rows, seq))));
}

/** Per-row cross-entropy (nats): logits [n, v], targets [n] int32 → [n]. */
export function crossEntropyRows(logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D {
  if (fused(K.crossEntropy)) return run(K.crossEntropy, { logits, targets }) as tf.Tensor1D;
  const logProbs = tf.sub(logits, tf.logSumExp(logits, -1, true));
  return tf.neg(tf.sum(tf.mul(logProbs, tf.oneHot(targets, logits.shape[1])), -1)) as tf.Tensor1D;
}

/** Σ x² over a whole tensor, as a scalar (the gradient clip's norm). */
export function sumSquares(x: tf.Tensor): tf.Scalar {
  if (fused(K.sumSquares)) return run(K.sumSquares, { x }) as tf.Scalar;
  return tf.sum(tf.square(x));
}

export interface AdamWAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** lr · weight decay, or 0 for weights that are not decayed. */
  decay: number;
  c1: number;
  c2: number;
}

/** One AdamW update of a weight: returns [param', m', v']. */
export function adamWUpdate(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, a: AdamWAttrs): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (fused(K.adamW)) return run(K.adamW, { param, grad, m, v }, { ...a }) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];
  const m2 = tf.add(tf.mul(m, a.beta1), tf.mul(grad, 1 - a.beta1));
  const v2 = tf.add(tf.mul(v, a.beta2), tf.mul(tf.square(grad), 1 - a.beta2));
  const update = tf.div(tf.div(m2, a.c1), tf.add(tf.sqrt(tf.div(v2, a.c2)), a.eps));
  const decayed = a.decay > 0 ? tf.mul(param, 1 - a.decay) : param;
  return [tf.sub(decayed, tf.mul(update, a.lr)), m2, v2];
}
