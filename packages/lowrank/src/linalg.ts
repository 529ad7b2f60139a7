/**
 * Small dense linear algebra in Float64 (row-major), for the matrices that are too small to be worth a
 * tensor op but need more precision than float32: the core of an SVD, Gram matrices, triangular factors.
 */

/** A thin SVD A = U·diag(s)·Vᵀ with k = min(m, n); columns of U and V kept as separate vectors. */
export interface SmallSvd {
  /** k columns of U, each of length m. */
  u: Float64Array[];
  /** k singular values, descending. */
  s: Float64Array;
  /** k columns of V, each of length n. */
  v: Float64Array[];
}

/**
 * Exact SVD of an m×n row-major matrix by one-sided (Hestenes) Jacobi: rotate column pairs until all are
 * orthogonal; the column norms are then the singular values. Accurate to double precision.
 */
export function jacobiSvd(a: Float64Array | Float32Array, m: number, n: number): SmallSvd {
  if (m < n) {
    const t = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
    const r = jacobiSvd(t, n, m);
    return { u: r.v, s: r.s, v: r.u };
  }
  // Work on columns stored contiguously (column j of A = cols[j], length m).
  const cols = Array.from({ length: n }, (_, j) => {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = a[i * n + j];
    return c;
  });
  const vs = Array.from({ length: n }, (_, j) => {
    const c = new Float64Array(n);
    c[j] = 1;
    return c;
  });
  const eps = 1e-15;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const up = cols[p];
        const uq = cols[q];
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += up[i] * up[i];
          beta += uq[i] * uq[i];
          gamma += up[i] * uq[i];
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = up[i];
          const y = uq[i];
          up[i] = c * x - s * y;
          uq[i] = s * x + c * y;
        }
        const vp = vs[p];
        const vq = vs[q];
        for (let i = 0; i < n; i++) {
          const x = vp[i];
          const y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = cols.map((c) => Math.sqrt(c.reduce((acc, x) => acc + x * x, 0)));
  const order = norms.map((_, j) => j).sort((x, y) => norms[y] - norms[x]);
  const s = new Float64Array(order.map((j) => norms[j]));
  const u = order.map((j) => {
    const c = cols[j];
    const nrm = norms[j];
    return nrm > 0 ? c.map((x) => x / nrm) : c;
  });
  return { u, s, v: order.map((j) => vs[j]) };
}

/** Upper-triangular R with RᵀR = G (n×n symmetric positive semi-definite); tiny pivots are floored. */
export function choleskyUpper(g: Float64Array, n: number): Float64Array {
  const r = new Float64Array(n * n);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += g[i * n + i];
  const floor = Math.max(trace, 1e-300) * 1e-14;
  for (let i = 0; i < n; i++) {
    let d = g[i * n + i];
    for (let k = 0; k < i; k++) d -= r[k * n + i] * r[k * n + i];
    // A rank-deficient Gram matrix gives a zero pivot: floor it so the factor stays finite.
    const rii = Math.sqrt(Math.max(d, floor));
    r[i * n + i] = rii;
    for (let j = i + 1; j < n; j++) {
      let x = g[i * n + j];
      for (let k = 0; k < i; k++) x -= r[k * n + i] * r[k * n + j];
      r[i * n + j] = x / rii;
    }
  }
  return r;
}

/** Inverse of an upper-triangular n×n matrix (also upper-triangular). */
export function invertUpper(r: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    inv[j * n + j] = 1 / r[j * n + j];
    for (let i = j - 1; i >= 0; i--) {
      let x = 0;
      for (let k = i + 1; k <= j; k++) x += r[i * n + k] * inv[k * n + j];
      inv[i * n + j] = -x / r[i * n + i];
    }
  }
  return inv;
}

/** Product of two n×n row-major matrices. */
export function matMul64(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  }
  return c;
}
