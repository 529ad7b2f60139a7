import { mismatch } from './errors.js';
import { lbfgs } from './lbfgs.js';
import { getLaw, thetaToParams, type LawForm, type LawName } from './laws.js';
import { validatePoints, type Point } from './points.js';

/** The fitting objective on the residuals r = log L̂ − log L. */
export type LossName = 'huber' | 'l2';

export interface FitOptions {
  /** Law form; default 'chinchilla'. */
  law?: LawName;
  /** 'huber' (Chinchilla Approach 3, default) or 'l2' (plain least squares on log L). */
  loss?: LossName;
  /** Huber threshold δ on log-loss residuals; default 1e-3 as in Hoffmann et al. */
  delta?: number;
  /**
   * How many starting points of the grid to run L-BFGS from: the grid is ranked by the objective at
   * each start and the best `starts` are optimised ('all' runs every one). Default 8. On more than
   * 256 points, ranking and this first optimisation use an evenly spaced subsample of 256 points,
   * and the two best results are then optimised again on all points.
   */
  starts?: number | 'all';
  /** Extra starting points (log-space theta), tried besides the grid; bootstrap refits pass the full fit here. */
  extraStarts?: readonly (readonly number[])[];
  /** Skip the grid and start only from `extraStarts`. */
  gridless?: boolean;
  maxIterations?: number;
  /**
   * Natural-space parameters held at given values (e.g. `{ alpha: 0.34, beta: 0.28 }` from another
   * fit); only the others are optimised. Useful when few model sizes leave an exponent weakly identified.
   */
  fixed?: Readonly<Record<string, number>>;
}

/** A fitted law: everything needed to predict, plan and report. */
export interface FittedLaw {
  law: LawName;
  formula: string;
  loss: LossName;
  delta: number;
  /** Log-space parameters (a = log A, ...). */
  theta: number[];
  /** Natural-space parameters ({A, B, E, alpha, beta}). */
  params: Record<string, number>;
  /** Final objective: mean of the per-point loss on log-loss residuals (Huber divided by δ). */
  objective: number;
  /** Points and distinct model sizes the fit used. */
  points: number;
  modelSizes: number;
  /** Starts optimised, and of those the one kept. */
  startsRun: number;
  iterations: number;
  /** Parameters that were held fixed (natural space), when any were. */
  fixed?: Record<string, number>;
  /** One-line cautions about the fit (e.g. an exponent weakly identified by two model sizes). */
  warnings: string[];
}

/** Log-space data in a canonical order, so the fit does not depend on the order of rows. */
export interface LogData {
  logN: Float64Array;
  logD: Float64Array;
  /** log unique tokens (log D where the point has no `uniqueTokens`). */
  logU: Float64Array;
  logL: Float64Array;
}

export function toLogData(points: readonly Point[]): LogData {
  const unique = (p: Point) => p.uniqueTokens ?? p.tokens;
  const sorted = [...points].sort((p, q) => p.params - q.params || p.tokens - q.tokens || p.loss - q.loss || unique(p) - unique(q));
  return {
    logN: Float64Array.from(sorted, (p) => Math.log(p.params)),
    logD: Float64Array.from(sorted, (p) => Math.log(p.tokens)),
    logU: Float64Array.from(sorted, (p) => Math.log(unique(p))),
    logL: Float64Array.from(sorted, (p) => Math.log(p.loss)),
  };
}

/** The objective (and its gradient when `grad` is given) at theta. */
export function objective(
  law: LawForm,
  data: LogData,
  loss: LossName,
  delta: number,
  theta: Float64Array,
  grad?: Float64Array,
): number {
  const n = data.logN.length;
  const k = theta.length;
  const gPoint = grad ? new Float64Array(k) : undefined;
  if (grad) grad.fill(0);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const r = law.logPredict(theta, data.logN[i], data.logD[i], gPoint, data.logU[i]) - data.logL[i];
    let dr: number;
    if (loss === 'l2') {
      total += r * r;
      dr = 2 * r;
    } else if (Math.abs(r) <= delta) {
      total += (0.5 * r * r) / delta;
      dr = r / delta;
    } else {
      total += Math.abs(r) - 0.5 * delta;
      dr = Math.sign(r);
    }
    if (grad && gPoint) for (let j = 0; j < k; j++) grad[j] += dr * gPoint[j];
  }
  if (grad) for (let j = 0; j < k; j++) grad[j] /= n;
  return total / n;
}

/** Points used to rank the grid and run the first stage of L-BFGS on large data sets. */
const RANKING_POINTS = 256;
/** First-stage results polished on all points. */
const POLISHED = 2;

/** At most `max` points, evenly spaced through the canonical order (all of them when there are fewer). */
function subsample(data: LogData, max: number): LogData {
  const n = data.logN.length;
  if (n <= max) return data;
  const idx = Array.from({ length: max }, (_, i) => Math.floor((i * n) / max));
  const pick = (a: Float64Array) => Float64Array.from(idx, (i) => a[i]);
  return { logN: pick(data.logN), logD: pick(data.logD), logU: pick(data.logU), logL: pick(data.logL) };
}

/**
 * Every point of the law's starting grid (Cartesian product), in a fixed order. Entries given in
 * `fixedTheta` (index → value) take that one value instead of their grid.
 */
export function gridStarts(law: LawForm, fixedTheta: ReadonlyMap<number, number> = new Map()): number[][] {
  let out: number[][] = [[]];
  law.grid.forEach((values, j) => {
    const options = fixedTheta.has(j) ? [fixedTheta.get(j)!] : values;
    out = out.flatMap((prefix) => options.map((v) => [...prefix, v]));
  });
  return out;
}

/** Log-space values (by theta index) of the parameters to hold fixed; one-line errors for unknown names. */
export function fixedThetaOf(law: LawForm, fixed: Readonly<Record<string, number>> = {}): Map<number, number> {
  const out = new Map<number, number>();
  for (const [name, value] of Object.entries(fixed)) {
    const j = law.paramNames.indexOf(name);
    if (j < 0) throw mismatch(`fixed parameter ${JSON.stringify(name)}`, `one of ${law.paramNames.join(', ')}`, JSON.stringify(name));
    if (!Number.isFinite(value) || (law.logScaled[j] && value <= 0)) {
      throw mismatch(`fixed parameter ${name}`, law.logScaled[j] ? 'a positive number' : 'a finite number', String(value));
    }
    out.set(j, law.logScaled[j] ? Math.log(value) : value);
  }
  if (out.size === law.paramNames.length) throw mismatch('fixed parameters', 'at least one parameter left to fit', 'all fixed');
  return out;
}

/** The message fits from two model sizes carry. */
export const TWO_SIZES_WARNING = 'only 2 model sizes: the N-exponent alpha is weakly identified (fix it from another fit with --fix alpha=... or --prior law.json)';

/**
 * Fits a law to (N, D, L) points: Chinchilla Approach 3 by default (Huber on log L, L-BFGS from a grid
 * of starts, best start kept). Deterministic for a given set of points, whatever their order.
 */
export function fitLaw(points: readonly Point[], options: FitOptions = {}): FittedLaw {
  const law = getLaw(options.law ?? 'chinchilla');
  const loss = options.loss ?? 'huber';
  if (loss !== 'huber' && loss !== 'l2') throw mismatch('loss', 'huber or l2', JSON.stringify(loss));
  const delta = options.delta ?? 1e-3;
  if (!(delta > 0)) throw mismatch('huber delta', 'a positive number', String(delta));
  const { modelSizes } = validatePoints(points);
  const data = toLogData(points);
  const fixedTheta = fixedThetaOf(law, options.fixed);
  const warnings = modelSizes === 2 && law.paramNames.includes('alpha') && !fixedTheta.has(law.paramNames.indexOf('alpha')) ? [TWO_SIZES_WARNING] : [];

  const candidates: number[][] = [];
  if (!options.gridless) {
    const grid = gridStarts(law, fixedTheta);
    const sample = subsample(data, RANKING_POINTS);
    const ranked = grid
      .map((theta, index) => ({ theta, index, f: objective(law, sample, loss, delta, Float64Array.from(theta)) }))
      .map((c) => ({ ...c, f: Number.isFinite(c.f) ? c.f : Infinity }))
      .sort((p, q) => p.f - q.f || p.index - q.index);
    const starts = options.starts ?? 8;
    const keep = starts === 'all' ? ranked.length : Math.max(1, Math.min(ranked.length, Math.floor(starts)));
    for (const c of ranked.slice(0, keep)) candidates.push(c.theta);
  }
  for (const s of options.extraStarts ?? []) {
    if (s.length !== law.thetaNames.length) throw mismatch('start point length', String(law.thetaNames.length), String(s.length));
    candidates.push(s.map((v, j) => fixedTheta.get(j) ?? v));
  }
  if (candidates.length === 0) throw mismatch('starting points', 'at least one', 'none');

  const maxIterations = options.maxIterations ?? 1000;
  // L-BFGS runs on the free entries only; fixed ones are put back before each evaluation.
  const free = law.thetaNames.map((_, j) => j).filter((j) => !fixedTheta.has(j));
  const expand = (x: ArrayLike<number>) => {
    const theta = new Float64Array(law.thetaNames.length);
    fixedTheta.forEach((v, j) => (theta[j] = v));
    free.forEach((j, i) => (theta[j] = x[i]));
    return theta;
  };
  const run = (d: LogData, start: ArrayLike<number>) => {
    const full = new Float64Array(law.thetaNames.length);
    const r = lbfgs(
      (x, grad) => {
        const f = objective(law, d, loss, delta, expand(x), full);
        free.forEach((j, i) => (grad[i] = full[j]));
        return f;
      },
      Float64Array.from(free, (j) => start[j]),
      { maxIterations },
    );
    return { ...r, x: expand(r.x) };
  };
  // Stage 1: every start on the subsample. Stage 2 (large data only): the best few polished on all points.
  const sample = subsample(data, RANKING_POINTS);
  const stage1 = candidates
    .map((start, index) => ({ index, r: run(sample, start) }))
    .filter((c) => Number.isFinite(c.r.f))
    .sort((p, q) => p.r.f - q.r.f || p.index - q.index);
  let best: { x: Float64Array; f: number; iterations: number } | undefined;
  if (sample === data) best = stage1[0]?.r;
  else {
    for (const c of stage1.slice(0, POLISHED)) {
      const r = run(data, c.r.x);
      if (Number.isFinite(r.f) && (!best || r.f < best.f)) best = r;
    }
  }
  if (!best) throw mismatch('fit', 'a finite objective from at least one start', 'none');
  const theta = Array.from(best.x);
  return {
    law: law.name,
    formula: law.formula,
    loss,
    delta,
    theta,
    params: thetaToParams(law, theta),
    objective: best.f,
    points: points.length,
    modelSizes,
    startsRun: candidates.length,
    iterations: best.iterations,
    ...(fixedTheta.size > 0 ? { fixed: Object.fromEntries(Object.entries(thetaToParams(law, theta)).filter((_, j) => fixedTheta.has(j))) } : {}),
    warnings,
  };
}
