/**
 * Limited-memory BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithms 7.4 and 7.5)
 * with a strong-Wolfe line search (Algorithms 3.5 and 3.6, cubic interpolation in the zoom).
 * Deterministic: the same start gives the same iterates.
 */

/** Returns f(x) and writes ∇f(x) into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Stored correction pairs. */
  memory?: number;
  maxIterations?: number;
  /** Stop when max |∇f| ≤ gradTolerance. */
  gradTolerance?: number;
  /** Stop when (f_k − f_{k+1}) ≤ relTolerance · max(|f_k|, |f_{k+1}|). */
  relTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  /** Why it stopped. */
  reason: 'gradient' | 'objective' | 'line-search' | 'max-iterations';
}

const C1 = 1e-4;
const C2 = 0.9;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Minimiser of the cubic through (a, fa, ga) and (b, fb, gb), kept inside the middle 80% of [a, b]. */
function cubicStep(a: number, fa: number, ga: number, b: number, fb: number, gb: number): number {
  const d1 = ga + gb - 3 * ((fa - fb) / (a - b));
  const disc = d1 * d1 - ga * gb;
  let t = (a + b) / 2;
  if (disc >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(disc);
    const c = b - (b - a) * ((gb + d2 - d1) / (gb - ga + 2 * d2));
    if (Number.isFinite(c)) t = c;
  }
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const margin = 0.1 * (hi - lo);
  return Math.min(Math.max(t, lo + margin), hi - margin);
}

/** Minimises `f` from `x0`. */
export function lbfgs(f: Objective, x0: ArrayLike<number>, options: LbfgsOptions = {}): LbfgsResult {
  const m = options.memory ?? 10;
  const maxIterations = options.maxIterations ?? 1000;
  const gradTolerance = options.gradTolerance ?? 1e-10;
  const relTolerance = options.relTolerance ?? 1e-14;
  const n = x0.length;

  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let fx = f(x, g);
  let evaluations = 1;
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaBuf = new Float64Array(m);
  const dir = new Float64Array(n);
  const xt = new Float64Array(n);
  const gt = new Float64Array(n);

  if (!Number.isFinite(fx)) return { x, f: fx, iterations: 0, evaluations, reason: 'line-search' };
  if (maxAbs(g) <= gradTolerance) return { x, f: fx, iterations: 0, evaluations, reason: 'gradient' };

  for (let iter = 1; iter <= maxIterations; iter++) {
    // Two-loop recursion: dir = −H ∇f.
    for (let i = 0; i < n; i++) dir[i] = -g[i];
    for (let k = s.length - 1; k >= 0; k--) {
      alphaBuf[k] = rho[k] * dot(s[k], dir);
      for (let i = 0; i < n; i++) dir[i] -= alphaBuf[k] * y[k][i];
    }
    const gamma = s.length ? dot(s[s.length - 1], y[y.length - 1]) / dot(y[y.length - 1], y[y.length - 1]) : 1 / Math.max(1, maxAbs(g));
    for (let i = 0; i < n; i++) dir[i] *= gamma;
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k] * dot(y[k], dir);
      for (let i = 0; i < n; i++) dir[i] += (alphaBuf[k] - beta) * s[k][i];
    }
    let slope0 = dot(g, dir);
    if (!(slope0 < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      s.length = y.length = rho.length = 0;
      const scale = 1 / Math.max(1, maxAbs(g));
      for (let i = 0; i < n; i++) dir[i] = -g[i] * scale;
      slope0 = dot(g, dir);
    }

    // Strong-Wolfe line search along dir.
    const phi = (t: number): [number, number] => {
      for (let i = 0; i < n; i++) xt[i] = x[i] + t * dir[i];
      const v = f(xt, gt);
      evaluations++;
      return [v, dot(gt, dir)];
    };
    let accepted = -1;
    let fNew = NaN;
    let tPrev = 0;
    let fPrev = fx;
    let dPrev = slope0;
    let t = 1;
    let lo = 0;
    let hi = 0;
    let fLo = fx;
    let dLo = slope0;
    let fHi = NaN;
    let dHi = NaN;
    let zoom = false;
    for (let ls = 0; ls < 40; ls++) {
      const [ft, dt] = phi(t);
      if (!zoom) {
        if (!Number.isFinite(ft) || ft > fx + C1 * t * slope0 || (ls > 0 && ft >= fPrev)) {
          [lo, fLo, dLo, hi, fHi, dHi, zoom] = [tPrev, fPrev, dPrev, t, ft, dt, true];
        } else if (Math.abs(dt) <= -C2 * slope0) {
          accepted = t;
          fNew = ft;
          break;
        } else if (dt >= 0) {
          [lo, fLo, dLo, hi, fHi, dHi, zoom] = [t, ft, dt, tPrev, fPrev, dPrev, true];
        } else {
          [tPrev, fPrev, dPrev] = [t, ft, dt];
          t *= 2;
          continue;
        }
      } else if (!Number.isFinite(ft) || ft > fx + C1 * t * slope0 || ft >= fLo) {
        [hi, fHi, dHi] = [t, ft, dt];
      } else {
        if (Math.abs(dt) <= -C2 * slope0) {
          accepted = t;
          fNew = ft;
          break;
        }
        if (dt * (hi - lo) >= 0) [hi, fHi, dHi] = [lo, fLo, dLo];
        [lo, fLo, dLo] = [t, ft, dt];
      }
      t = Number.isFinite(fHi) && Number.isFinite(dHi) ? cubicStep(lo, fLo, dLo, hi, fHi, dHi) : (lo + hi) / 2;
      if (Math.abs(hi - lo) < 1e-16 * Math.max(1, Math.abs(lo))) break;
    }
    if (accepted < 0) {
      // Accept the best point the zoom found if it decreased f (sufficient decrease held at lo).
      if (zoom && lo > 0 && fLo < fx) {
        accepted = lo;
        phi(lo);
        fNew = fLo;
      } else {
        return { x, f: fx, iterations: iter, evaluations, reason: 'line-search' };
      }
    }

    // Update the correction pairs with s = x_{k+1} − x_k, y = ∇f_{k+1} − ∇f_k.
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sk[i] = xt[i] - x[i];
      yk[i] = gt[i] - g[i];
    }
    const sy = dot(sk, yk);
    if (sy > 1e-12 * Math.sqrt(dot(sk, sk) * dot(yk, yk))) {
      if (s.length === m) {
        s.shift();
        y.shift();
        rho.shift();
      }
      s.push(sk);
      y.push(yk);
      rho.push(1 / sy);
    }
    const fOld = fx;
    x = Float64Array.from(xt);
    g = Float64Array.from(gt);
    fx = fNew;
    if (maxAbs(g) <= gradTolerance) return { x, f: fx, iterations: iter, evaluations, reason: 'gradient' };
    if (fOld - fx <= relTolerance * Math.max(Math.abs(fOld), Math.abs(fx))) {
      return { x, f: fx, iterations: iter, evaluations, reason: 'objective' };
    }
  }
  return { x, f: fx, iterations: maxIterations, evaluations, reason: 'max-iterations' };
}
