import { tf } from '../tf.js';
import { sumSquares } from '../ops/fused.js';

/** Sums scalars in groups of at most 7 (a WebGPU shader binds at most 8 storage buffers). */
function sumScalars(xs: tf.Tensor[]): tf.Tensor {
  let level = xs;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 7) next.push(level.length - i === 1 ? level[i] : tf.addN(level.slice(i, i + 7)));
    level = next;
  }
  return level[0];
}

/** The global L2 norm of a set of gradients, as a scalar on the device. */
export function globalNorm(grads: Record<string, tf.Tensor>): tf.Scalar {
  return tf.tidy(() => tf.sqrt(sumScalars(Object.values(grads).map((g) => sumSquares(g)))) as tf.Scalar);
}

/** Scales gradients so their global L2 norm is at most maxNorm; returns the new grads and the norm before. */
export function clipByGlobalNorm(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: number } {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
  if (!(maxNorm > 0) || norm <= maxNorm || !Number.isFinite(norm)) return { grads, norm };
  const scale = maxNorm / (norm + 1e-6);
  const clipped: Record<string, tf.Tensor> = {};
  for (const [n, g] of Object.entries(grads)) {
    clipped[n] = tf.mul(g, scale);
    g.dispose();
  }
  return { grads: clipped, norm };
}

/**
 * The same clip with nothing read back (for backends whose memory the host cannot read directly, e.g.
 * webgpu): the scale min(1, maxNorm / (norm + 1e-6)), 1 when the norm is not finite, is computed and
 * applied on the device, in float32. Returns the new grads (the inputs are disposed) and the norm.
 */
export function clipByGlobalNormOnDevice(grads: Record<string, tf.Tensor>, maxNorm: number): { grads: Record<string, tf.Tensor>; norm: tf.Scalar } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0)) return { grads, norm };
  const scale = tf.tidy(() => {
    const finite = tf.equal(tf.sub(norm, norm), 0);
    return tf.where(tf.logicalAnd(finite, tf.greater(norm, maxNorm)), tf.div(maxNorm, tf.add(norm, 1e-6)), tf.onesLike(norm));
  });
  const clipped: Record<string, tf.Tensor> = {};
  for (const [n, g] of Object.entries(grads)) {
    clipped[n] = tf.mul(g, scale);
    g.dispose();
  }
  scale.dispose();
  return { grads: clipped, norm };
}
