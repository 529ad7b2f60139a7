import { tf, mismatch } from '@efficientscale/core';
import { choleskyUpper, invertUpper, jacobiSvd, matMul64 } from './linalg.js';

/** A truncated SVD A ≈ U·diag(s)·Vᵀ: u [m, r], v [n, r] (float32 tensors), s descending (Float64). */
export interface Svd {
  u: tf.Tensor2D;
  s: Float64Array;
  v: tf.Tensor2D;
}

export interface RandomizedSvdOptions {
  /** Extra sketch columns beyond the rank (Halko et al. suggest 5-10). */
  oversample?: number;
  /** Power iterations, each re-orthonormalised; 2 is enough for slowly decaying spectra. */
  powerIterations?: number;
  seed?: number;
}

const columnsToTensor = (cols: Float64Array[], len: number, r: number): tf.Tensor2D => {
  const out = new Float32Array(len * r);
  for (let j = 0; j < r; j++) for (let i = 0; i < len; i++) out[i * r + j] = cols[j][i];
  return tf.tensor2d(out, [len, r]);
};

/** Exact SVD (one-sided Jacobi in Float64) truncated to `rank` (default: full, min(m, n)). */
export function exactSvd(a: tf.Tensor2D, rank?: number): Svd {
  const [m, n] = a.shape;
  const k = Math.min(m, n);
  const r = rank ?? k;
  if (!Number.isInteger(r) || r < 1 || r > k) throw mismatch('SVD rank', `an integer in 1..${k}`, String(rank));
  const full = jacobiSvd(a.dataSync() as Float32Array, m, n);
  return { u: columnsToTensor(full.u, m, r), s: full.s.slice(0, r), v: columnsToTensor(full.v, n, r) };
}

/**
 * Y = Q·R with orthonormal Q, by shifted Cholesky QR done three times (Fukaya et al. 2020): the shift
 * keeps the first Cholesky finite when Y is ill-conditioned, the next two restore orthogonality.
 * Gram matrices come from tfjs matMul; the Cholesky factors are computed in Float64.
 */
export function orthonormalize(y: tf.Tensor2D): { q: tf.Tensor2D; r: Float64Array } {
  const [m, l] = y.shape;
  const step = (x: tf.Tensor2D, shifted: boolean) => {
    const gram = tf.matMul(x, x, true, false);
    const g = Float64Array.from(gram.dataSync());
    gram.dispose();
    if (shifted) {
      let trace = 0;
      for (let i = 0; i < l; i++) trace += g[i * l + i];
      const shift = 11 * (m * l + l * (l + 1)) * 2 ** -24 * trace;
      for (let i = 0; i < l; i++) g[i * l + i] += shift;
    }
    const r = choleskyUpper(g, l);
    const rInv = tf.tensor2d(Float32Array.from(invertUpper(r, l)), [l, l]);
    const q = tf.matMul(x, rInv) as tf.Tensor2D;
    rInv.dispose();
    return { q, r };
  };
  const a = step(y, true);
  const b = step(a.q, false);
  a.q.dispose();
  const c = step(b.q, false);
  b.q.dispose();
  return { q: c.q, r: matMul64(c.r, matMul64(b.r, a.r, l), l) };
}

/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011): Gaussian sketch, power iterations with
 * re-orthonormalisation, then an exact SVD of the small l×l core. Big products run as tfjs matMuls.
 * Small matrices (or a rank near min(m, n)) take the exact path, so full rank is exact.
 */
export function randomizedSvd(a: tf.Tensor2D, rank: number, options: RandomizedSvdOptions = {}): Svd {
  const [m, n] = a.shape;
  const k = Math.min(m, n);
  if (!Number.isInteger(rank) || rank < 1 || rank > k) throw mismatch('SVD rank', `an integer in 1..${k}`, String(rank));
  const l = Math.min(k, rank + (options.oversample ?? 10));
  if (l === k || k <= 64) return exactSvd(a, rank);
  const seed = options.seed ?? 0;
  const omega = tf.randomNormal([n, l], 0, 1, 'float32', seed) as tf.Tensor2D;
  const y = tf.matMul(a, omega) as tf.Tensor2D;
  omega.dispose();
  let q = orthonormalize(y).q;
  y.dispose();
  for (let i = 0; i < (options.powerIterations ?? 2); i++) {
    const z = tf.matMul(a, q, true, false) as tf.Tensor2D;
    q.dispose();
    const qz = orthonormalize(z).q;
    z.dispose();
    const y2 = tf.matMul(a, qz) as tf.Tensor2D;
    qz.dispose();
    q = orthonormalize(y2).q;
    y2.dispose();
  }
  // Aᵀ Q = Q₂ R₂, so Qᵀ A = R₂ᵀ Q₂ᵀ and the SVD of the l×l matrix R₂ᵀ finishes the job.
  const z = tf.matMul(a, q, true, false) as tf.Tensor2D;
  const { q: q2, r: r2 } = orthonormalize(z);
  z.dispose();
  const r2t = new Float64Array(l * l);
  for (let i = 0; i < l; i++) for (let j = 0; j < l; j++) r2t[j * l + i] = r2[i * l + j];
  const core = jacobiSvd(r2t, l, l);
  const ub = columnsToTensor(core.u, l, rank);
  const vb = columnsToTensor(core.v, l, rank);
  const u = tf.matMul(q, ub) as tf.Tensor2D;
  const v = tf.matMul(q2, vb) as tf.Tensor2D;
  tf.dispose([q, q2, ub, vb]);
  return { u, s: core.s.slice(0, rank), v };
}

/** Balanced factors of a truncated SVD: U√Σ [m, r] and √ΣVᵀ [r, n]. */
export function balancedFactors(svd: Svd): { u: tf.Tensor2D; v: tf.Tensor2D } {
  return tf.tidy(() => {
    const root = tf.tensor1d(Float32Array.from(svd.s, Math.sqrt));
    return { u: tf.mul(svd.u, root) as tf.Tensor2D, v: tf.transpose(tf.mul(svd.v, root)) as tf.Tensor2D };
  });
}

export function disposeSvd(svd: Svd): void {
  tf.dispose([svd.u, svd.v]);
}
