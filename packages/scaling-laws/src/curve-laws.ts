import { mismatch } from './errors.js';
import { annealingAreaOfDrops, forwardArea, lrDrops } from './lr-areas.js';

/** The whole-curve law forms: loss at every step of a run under any LR schedule. */
export type CurveLawName = 'annealing' | 'multipower';
export const CURVE_LAW_NAMES: readonly CurveLawName[] = ['annealing', 'multipower'];

/** How an entry of theta maps to its natural parameter: log of a positive constant, logit of a fraction, or as is. */
export type ParamTransform = 'log' | 'logit' | 'none';

/**
 * A run's schedule prepared for one law evaluation at given points: the forward area at each point, the
 * LR drops of every step (the annealing law's S2 depends on the fitted λ, so it is summed per evaluation)
 * and the drops grouped into bins that end at the points (the multi-power law's sum over drops).
 */
export interface CurveFeatures {
  /** 0-based step index of each point. */
  idx: Int32Array;
  /** S1 at each point. */
  s1: Float64Array;
  /**
   * Added to S1 in the power term A·S1^(−α) only (the annealing terms depend on LR areas since each drop,
   * which an offset does not change): a model that starts part-way along its curve (see predictContinuation).
   */
  areaOffset: number;
  drops: Float64Array;
  /** log N, for joint fits across model sizes (NaN when the run has no size). */
  logN: number;
  bins: DropBins;
}

/**
 * The LR drops summed over bins of consecutive steps, each bin ending at or before a point so a point
 * sees whole bins only. `s1Before[b]` is S1 just before the bin's drop-weighted centre and `lr[b]` the
 * LR there, so a bin of one step is exact; wider bins are the midpoint rule of the multi-power sum.
 */
export interface DropBins {
  /** Index of the bin's last step. */
  end: Int32Array;
  drop: Float64Array;
  logLr: Float64Array;
  s1Before: Float64Array;
}

/** Default bins of LR drops per run for the multi-power law (a bin never spans an evaluation point). */
export const DEFAULT_MAX_BINS = 256;

function interpolate(a: Float64Array, x: number): number {
  if (x <= -1) return 0; // "S1 before step 0"
  if (x < 0) return a[0] * (x + 1);
  const i = Math.floor(x);
  return i + 1 < a.length ? a[i] + (a[i + 1] - a[i]) * (x - i) : a[a.length - 1];
}

/** Prepares a schedule (`lr[i]` for step i + 1) for evaluating a law at the 0-based step indices `idx`. */
export function curveFeatures(lr: ArrayLike<number>, idx: ArrayLike<number>, params?: number, maxBins = DEFAULT_MAX_BINS): CurveFeatures {
  const s1 = forwardArea(lr);
  const drops = lrDrops(lr);
  const points = Int32Array.from(idx);
  const width = Math.max(1, Math.ceil(lr.length / maxBins));
  const cuts = new Set<number>(points);
  const end: number[] = [];
  const drop: number[] = [];
  const logLr: number[] = [];
  const s1Before: number[] = [];
  let lo = 0;
  for (let i = 0; i < lr.length; i++) {
    if (!(cuts.has(i) || i - lo + 1 >= width || i === lr.length - 1)) continue;
    let sum = 0;
    let weight = 0;
    let centre = 0;
    for (let k = lo; k <= i; k++) {
      sum += drops[k];
      weight += Math.abs(drops[k]);
      centre += k * Math.abs(drops[k]);
    }
    if (weight > 0) {
      const c = centre / weight;
      const lrAt = lr[Math.round(c)];
      end.push(i);
      drop.push(sum);
      logLr.push(lrAt > 0 ? Math.log(lrAt) : -Infinity);
      s1Before.push(interpolate(s1, c - 1));
    }
    lo = i + 1;
  }
  return {
    idx: points,
    s1: Float64Array.from(points, (i) => s1[i]),
    areaOffset: 0,
    drops,
    logN: params !== undefined ? Math.log(params) : Number.NaN,
    bins: { end: Int32Array.from(end), drop: Float64Array.from(drop), logLr: Float64Array.from(logLr), s1Before: Float64Array.from(s1Before) },
  };
}

/** A whole-curve law: natural parameters, how theta maps to them, and L̂ at a run's points with dL̂/dθ. */
export interface CurveLawForm {
  name: CurveLawName;
  /** The formula, for people; `joint` replaces L0 by its dependence on N. */
  formula(joint: boolean): string;
  paramNames(joint: boolean): string[];
  transforms(joint: boolean): ParamTransform[];
  /** The parameters that describe how annealing lowers the loss (held by `--prior` for early prediction). */
  annealingParams: readonly string[];
  /**
   * Writes L̂ at each point of `f` into `out` and, when given, dL̂/dθ into `grad` (points × theta length,
   * row-major).
   */
  predict(theta: ArrayLike<number>, f: CurveFeatures, joint: boolean, out: Float64Array, grad?: Float64Array): void;
  /**
   * A natural parameter whose theta entry is the log of its product with another (`theta = log(param·by)`):
   * the multi-power law's B grows without bound as β → 0 while B·β stays put, so the fit works on B·β.
   */
  coupled?: { param: string; by: string };
  /** Values each nonlinear natural parameter takes on the grid of starts (the linear ones are solved for). */
  startGrid: Readonly<Record<string, readonly number[]>>;
  /** Columns of the linear part at fixed nonlinear parameters: L̂ = Σ coef_j · column_j (for starts). */
  linearColumns(natural: Readonly<Record<string, number>>, f: CurveFeatures, joint: boolean): { names: string[]; columns: Float64Array[] };
}

/** L0, or E + AN·N^(−alphaN) for a joint fit: the first entries of theta. */
const FLOOR_NAMES = { single: ['L0'], joint: ['E', 'AN', 'alphaN'] };
const FLOOR_TRANSFORMS: Record<'single' | 'joint', ParamTransform[]> = { single: ['log'], joint: ['log', 'log', 'none'] };

/** Writes the floor's value at log N and its gradient into grad[0..]; returns the number of theta entries used. */
function floor(theta: ArrayLike<number>, logN: number, joint: boolean, g?: Float64Array, offset = 0): { value: number; used: number } {
  if (!joint) {
    const v = Math.exp(theta[0]);
    if (g) g[offset] = v;
    return { value: v, used: 1 };
  }
  const e = Math.exp(theta[0]);
  const term = Math.exp(theta[1] - theta[2] * logN);
  if (g) {
    g[offset] = e;
    g[offset + 1] = term;
    g[offset + 2] = -term * logN;
  }
  return { value: e + term, used: 3 };
}

function floorColumns(natural: Readonly<Record<string, number>>, f: CurveFeatures, joint: boolean): { names: string[]; columns: Float64Array[] } {
  const n = f.idx.length;
  if (!joint) return { names: ['L0'], columns: [new Float64Array(n).fill(1)] };
  return { names: ['E', 'AN'], columns: [new Float64Array(n).fill(1), new Float64Array(n).fill(Math.exp(-natural.alphaN * f.logN))] };
}

/**
 * Tissue et al. (arXiv 2408.11029): L(s) = L0 + A·S1^(−α) − C·S2, S2 the annealing area with momentum λ.
 * theta after the floor: [log A, α, log C, logit λ].
 */
const annealing: CurveLawForm = {
  name: 'annealing',
  formula: (joint) => `L(s) = ${joint ? 'E + AN / N^alphaN' : 'L0'} + A * S1^(-alpha) - C * S2,  S2 = sum of m_i, m_i = lambda * m_(i-1) + (lr_(i-1) - lr_i)`,
  paramNames: (joint) => [...FLOOR_NAMES[joint ? 'joint' : 'single'], 'A', 'alpha', 'C', 'lambda'],
  transforms: (joint) => [...FLOOR_TRANSFORMS[joint ? 'joint' : 'single'], 'log', 'none', 'log', 'logit'],
  annealingParams: ['C', 'lambda'],
  startGrid: { alpha: [0.2, 0.4, 0.7, 1, 1.5], lambda: [0, 0.9, 0.97, 0.99, 0.997, 0.999], alphaN: [0.1, 0.3, 0.6, 1] },
  linearColumns(natural, f, joint) {
    const { names, columns } = floorColumns(natural, f, joint);
    const s2 = annealingAreaOfDrops(f.drops, natural.lambda);
    return {
      names: [...names, 'A', 'C'],
      columns: [...columns, Float64Array.from(f.s1, (s) => s ** -natural.alpha), Float64Array.from(f.idx, (i) => -s2[i])],
    };
  },
  predict(theta, f, joint, out, grad) {
    const k = theta.length;
    const lambda = 1 / (1 + Math.exp(-theta[k - 1]));
    const dS2 = grad ? new Float64Array(f.drops.length) : undefined;
    const s2 = annealingAreaOfDrops(f.drops, lambda, dS2);
    const a = Math.exp(theta[k - 4]);
    const alpha = theta[k - 3];
    const c = Math.exp(theta[k - 2]);
    const g = grad ? new Float64Array(k) : undefined;
    for (let p = 0; p < f.idx.length; p++) {
      const i = f.idx[p];
      const { value: l0 } = floor(theta, f.logN, joint, g);
      const logS1 = Math.log(f.s1[p] + f.areaOffset);
      const power = a * Math.exp(-alpha * logS1);
      out[p] = l0 + power - c * s2[i];
      if (grad && g) {
        g[k - 4] = power;
        g[k - 3] = -power * logS1;
        g[k - 2] = -c * s2[i];
        g[k - 1] = -c * dS2![i] * lambda * (1 - lambda);
        grad.set(g, p * k);
      }
    }
  },
};

/**
 * Luo et al. (ICLR 2025): L(t) = L0 + A·S1^(−α) − LD(t), LD(t) = B·Σ_k Δ_k·(1 − (C·η_k^(−γ)·S_k(t) + 1)^(−β)),
 * S_k(t) the LR area from step k to t. Their S1 + S_W is our S1 (warmup included). theta after the floor:
 * [log A, α, log(B·β), log C, log β, γ]: with B·β as the parameter, β → 0 is the smooth limit
 * LD = B·β·Σ_k Δ_k·log(1 + C·η_k^(−γ)·S_k(t)) instead of a valley where B runs off to infinity.
 */
const multipower: CurveLawForm = {
  name: 'multipower',
  formula: (joint) =>
    `L(t) = ${joint ? 'E + AN / N^alphaN' : 'L0'} + A * S1^(-alpha) - B * sum_k (lr_(k-1) - lr_k) * (1 - (C * lr_k^(-gamma) * S_k(t) + 1)^(-beta))`,
  paramNames: (joint) => [...FLOOR_NAMES[joint ? 'joint' : 'single'], 'A', 'alpha', 'B', 'C', 'beta', 'gamma'],
  transforms: (joint) => [...FLOOR_TRANSFORMS[joint ? 'joint' : 'single'], 'log', 'none', 'log', 'log', 'log', 'none'],
  annealingParams: ['B', 'C', 'beta', 'gamma'],
  coupled: { param: 'B', by: 'beta' },
  startGrid: { alpha: [0.3, 0.6, 1], C: [0.01, 0.1, 1, 10], beta: [0.3, 0.6, 1.2], gamma: [0, 0.5, 1], alphaN: [0.1, 0.3, 0.6, 1] },
  linearColumns(natural, f, joint) {
    const { names, columns } = floorColumns(natural, f, joint);
    const ld = new Float64Array(f.idx.length);
    multipowerSum(f, Math.log(natural.C), Math.log(natural.beta), natural.gamma, ld);
    return { names: [...names, 'A', 'B'], columns: [...columns, Float64Array.from(f.s1, (s) => s ** -natural.alpha), Float64Array.from(ld, (v) => -v)] };
  },
  predict(theta, f, joint, out, grad) {
    const k = theta.length;
    const a = Math.exp(theta[k - 6]);
    const alpha = theta[k - 5];
    const b = Math.exp(theta[k - 4]); // B·β
    const n = f.idx.length;
    const ld = new Float64Array(n);
    const dld = grad ? new Float64Array(n * 3) : undefined;
    multipowerSum(f, theta[k - 3], theta[k - 2], theta[k - 1], ld, dld);
    const g = grad ? new Float64Array(k) : undefined;
    for (let p = 0; p < n; p++) {
      const { value: l0 } = floor(theta, f.logN, joint, g);
      const logS1 = Math.log(f.s1[p] + f.areaOffset);
      const power = a * Math.exp(-alpha * logS1);
      out[p] = l0 + power - b * ld[p];
      if (grad && g) {
        g[k - 6] = power;
        g[k - 5] = -power * logS1;
        g[k - 4] = -b * ld[p];
        g[k - 3] = -b * dld![p * 3];
        g[k - 2] = -b * dld![p * 3 + 1];
        g[k - 1] = -b * dld![p * 3 + 2];
        grad.set(g, p * k);
      }
    }
  },
};

/**
 * Σ_bins Δ_b·(1 − (C·η_b^(−γ)·S_b(t) + 1)^(−β))/β at every point (log(1 + x) in the limit β → 0); with
 * `d`, its derivatives in log C, log β and γ (points × 3).
 */
function multipowerSum(f: CurveFeatures, logC: number, logBeta: number, gamma: number, out: Float64Array, d?: Float64Array): void {
  const beta = Math.exp(logBeta);
  const { end, drop, logLr, s1Before } = f.bins;
  const bins = end.length;
  const scale = new Float64Array(bins); // C·η_b^(−γ)
  for (let b = 0; b < bins; b++) scale[b] = Math.exp(logC - gamma * logLr[b]);
  for (let p = 0; p < f.idx.length; p++) {
    const i = f.idx[p];
    const s1 = f.s1[p];
    let sum = 0;
    let dLogC = 0;
    let dLogBeta = 0;
    let dGamma = 0;
    for (let b = 0; b < bins && end[b] <= i; b++) {
      if (logLr[b] === -Infinity) {
        sum += drop[b] / beta; // a drop to LR 0: G(∞) = 1
        dLogBeta -= drop[b] / beta;
        continue;
      }
      const x = scale[b] * (s1 - s1Before[b]);
      const u = Math.log1p(x);
      // H = (1 − e^(−βu))/β, by its series when βu is tiny (the β → 0 limit is u).
      const bu = beta * u;
      const pow = Math.exp(-bu);
      const h = Math.abs(bu) < 1e-6 ? u * (1 - bu / 2) : -Math.expm1(-bu) / beta;
      sum += drop[b] * h;
      if (d) {
        // dH/du = e^(−βu); du/dlogC = x/(1 + x); du/dγ = −log η · x/(1 + x); dH/dlogβ = β·dH/dβ = u·e^(−βu) − H
        const dHdu = pow;
        const dudl = x / (1 + x);
        dLogC += drop[b] * dHdu * dudl;
        dGamma += drop[b] * dHdu * dudl * -logLr[b];
        dLogBeta += drop[b] * (u * pow - h);
      }
    }
    out[p] = sum;
    if (d) {
      d[p * 3] = dLogC;
      d[p * 3 + 1] = dLogBeta;
      d[p * 3 + 2] = dGamma;
    }
  }
}

const CURVE_LAWS: Record<CurveLawName, CurveLawForm> = { annealing, multipower };

/** The curve law called `name`; one-line error naming the known ones otherwise. */
export function getCurveLaw(name: string): CurveLawForm {
  const law = (CURVE_LAWS as Record<string, CurveLawForm | undefined>)[name];
  if (!law) throw mismatch('curve law', `one of ${CURVE_LAW_NAMES.join(', ')}`, JSON.stringify(name));
  return law;
}

export function isCurveLawName(name: string): name is CurveLawName {
  return (CURVE_LAW_NAMES as readonly string[]).includes(name);
}

/** Natural value of theta entry j. */
export function toNatural(t: ParamTransform, v: number): number {
  return t === 'log' ? Math.exp(v) : t === 'logit' ? 1 / (1 + Math.exp(-v)) : v;
}

/** Theta entry from a natural value; throws when it is out of the transform's range. */
export function fromNatural(t: ParamTransform, v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw mismatch(what, 'a finite number', String(v));
  if (t === 'log') {
    if (!(v > 0)) throw mismatch(what, 'a positive number', String(v));
    return Math.log(v);
  }
  if (t === 'logit') {
    if (!(v >= 0 && v < 1)) throw mismatch(what, 'a number in [0, 1)', String(v));
    const c = Math.min(Math.max(v, 1e-12), 1 - 1e-12);
    return Math.log(c / (1 - c));
  }
  return v;
}

/** Natural parameters from theta. */
export function curveParams(law: CurveLawForm, joint: boolean, theta: ArrayLike<number>): Record<string, number> {
  const names = law.paramNames(joint);
  const ts = law.transforms(joint);
  const out: Record<string, number> = Object.fromEntries(names.map((n, j) => [n, toNatural(ts[j], theta[j])]));
  if (law.coupled) out[law.coupled.param] /= out[law.coupled.by];
  return out;
}

/** Theta from natural parameters; one-line error naming a missing or out-of-range parameter. */
export function curveTheta(law: CurveLawForm, joint: boolean, params: Readonly<Record<string, number>>, source = 'law'): number[] {
  const ts = law.transforms(joint);
  const names = law.paramNames(joint);
  const theta = names.map((n, j) => fromNatural(ts[j], params[n], `${source}: parameter ${n}`));
  if (law.coupled) {
    const j = names.indexOf(law.coupled.param);
    theta[j] += Math.log(params[law.coupled.by]);
  }
  return theta;
}
