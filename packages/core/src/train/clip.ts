import { tf } from '../tf.js';

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
