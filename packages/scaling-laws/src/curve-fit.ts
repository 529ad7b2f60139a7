import { mismatch } from './errors.js';
import { lbfgs } from './lbfgs.js';
import { curveFeatures, curveParams, curveTheta, fromNatural, getCurveLaw, DEFAULT_MAX_BINS, type CurveFeatures, type CurveLawForm, type CurveLawName } from './curve-laws.js';
import { checkCurveRun, warmupSteps, type CurveRun } from './curve-run.js';
import { sizeClusters } from './points.js';
import type { LossName } from './fit.js';

export interface CurveFitOptions {
  law?: CurveLawName;
  /** 'huber' (default) or 'l2', on log-loss residuals as the point laws. */
  loss?: LossName;
  /** Huber threshold on log-loss residuals; default 1e-3. */
  delta?: number;
  /** Best-ranked grid starts optimised with L-BFGS; default 8. */
  starts?: number;
  /** Drop each run's losses in the warmup and in the first `earlyFraction` of its schedule's steps; default 0.1. */
  earlyFraction?: number;
  /** Natural parameters held at given values (e.g. the annealing shape from another fit). */
  fixed?: Readonly<Record<string, number>>;
  /** Extra starting points (theta), tried besides the grid; bootstrap refits pass the full fit here. */
  extraStarts?: readonly (readonly number[])[];
  /** Skip the grid and start only from `extraStarts`. */
  gridless?: boolean;
  maxIterations?: number;
  /** Bins of LR drops per run in the multi-power sum (exact when a run has no more steps than this). */
  maxBins?: number;
  /** Fit the floor as a function of N (default: when the runs have two sizes or more). */
  joint?: boolean;
}

/** What a fit remembers of each run it used: enough to describe it and to rebuild its schedule's defaults. */
export interface CurveRunSummary {
  name: string;
  params?: number;
  /** Steps in the schedule. */
  steps: number;
  peakLr: number;
  /** Warmup steps (up to the first at the peak LR). */
  warmup: number;
  /** Tokens per step, when the run logged tokens. */
  tokensPerStep?: number;
  /** Losses used, and the steps of the first and last. */
  points: number;
  firstStep: number;
  lastStep: number;
}

export interface FittedCurveLaw {
  law: CurveLawName;
  formula: string;
  /** Whether L0 depends on N (the runs had several model sizes). */
  joint: boolean;
  loss: LossName;
  delta: number;
  earlyFraction: number;
  theta: number[];
  params: Record<string, number>;
  /** Mean Huber (divided by δ) or squared residual of log L. */
  objective: number;
  /** Root mean square of the relative residuals L̂/L − 1 on the points used. */
  rmsRelativeError: number;
  points: number;
  sizes: number;
  runs: CurveRunSummary[];
  startsRun: number;
  iterations: number;
  fixed?: Record<string, number>;
  warnings: string[];
}

/** Fewest losses a run must keep after the early cut: a curve needs a shape, not a point or two. */
export const MIN_CURVE_POINTS = 5;

/** The caution a joint fit on two model sizes carries. */
export const TWO_SIZES_CURVE_WARNING =
  'only 2 model sizes: E, AN and alphaN (the floor L0(N) = E + AN/N^alphaN) are not all identified by two floors; hold one (--fix alphaN=...) or fit three sizes';

/** The points of one run a fit uses: its features and observed log losses. */
interface RunData {
  run: CurveRun;
  f: CurveFeatures;
  logL: Float64Array;
  weights: Float64Array;
}

/**
 * Keeps each run's losses after its warmup and after the first `earlyFraction` of its schedule's steps
 * (of the whole schedule, not of the steps measured so far: a run stopped at 30% keeps the same early
 * cut as when it is finished).
 */
export function curvePointsKept(run: CurveRun, earlyFraction: number): { steps: number[]; losses: number[]; weights: number[] } {
  const warmup = warmupSteps(run.lr);
  const keep = run.steps.map((s) => s > warmup && s > earlyFraction * run.lr.length);
  const pick = <T>(a: readonly T[]) => a.filter((_, j) => keep[j]);
  return { steps: pick(run.steps), losses: pick(run.losses), weights: pick(run.weights ?? run.steps.map(() => 1)) };
}

/** Prepares runs for fitting; refuses, in one line, a run too short to have a curve. */
export function prepareRuns(runs: readonly CurveRun[], earlyFraction: number, maxBins = DEFAULT_MAX_BINS): RunData[] {
  if (runs.length === 0) throw mismatch('runs', 'at least one run to fit', 'none');
  if (!(earlyFraction >= 0 && earlyFraction < 1)) throw mismatch('early fraction', 'a fraction in [0, 1)', String(earlyFraction));
  return runs.map((run) => {
    checkCurveRun(run);
    const kept = curvePointsKept(run, earlyFraction);
    const distinct = kept.weights.filter((w) => w > 0).length;
    if (distinct < MIN_CURVE_POINTS) {
      const what = run.source ?? run.name;
      throw mismatch(
        `${what}: losses`,
        `at least ${MIN_CURVE_POINTS} measured after the warmup and the first ${Math.round(earlyFraction * 100)}% of steps (log the held-out loss more often: train --eval-every)`,
        `${distinct} of ${run.steps.length}${run.steps.length > 0 ? ` (at steps ${run.steps.slice(0, 8).join(', ')}${run.steps.length > 8 ? ', …' : ''})` : ''}`,
      );
    }
    const f = curveFeatures(run.lr, kept.steps.map((s) => s - 1), run.params, maxBins);
    return { run, f, logL: Float64Array.from(kept.losses, Math.log), weights: Float64Array.from(kept.weights) };
  });
}

/** Distinct model sizes of the runs (clustered as the point laws do); refuses a mix of sized and unsized runs. */
export function runSizes(runs: readonly CurveRun[]): number[] {
  const sized = runs.filter((r) => r.params !== undefined);
  if (sized.length === 0) return [];
  if (sized.length < runs.length) {
    const missing = runs.find((r) => r.params === undefined)!;
    throw mismatch(`${missing.source ?? missing.name}: params`, 'a parameter count for every run when the runs have several (pass --params)', 'none');
  }
  return [...new Set(sizeClusters(sized.map((r) => r.params!)).values())].sort((a, b) => a - b);
}

/** The objective and its gradient over every run's points. */
function curveObjective(law: CurveLawForm, data: readonly RunData[], joint: boolean, loss: LossName, delta: number, theta: Float64Array, grad?: Float64Array): number {
  const k = theta.length;
  if (grad) grad.fill(0);
  let total = 0;
  let n = 0;
  for (const d of data) {
    const w = d.weights;
    const m = d.f.idx.length;
    const pred = new Float64Array(m);
    const g = grad ? new Float64Array(m * k) : undefined;
    law.predict(theta, d.f, joint, pred, g);
    for (let p = 0; p < m; p++) {
      if (!(pred[p] > 0)) return Infinity;
      if (w[p] === 0) continue;
      const r = Math.log(pred[p]) - d.logL[p];
      let dr: number;
      if (loss === 'l2') {
        total += w[p] * r * r;
        dr = 2 * r;
      } else if (Math.abs(r) <= delta) {
        total += (w[p] * 0.5 * r * r) / delta;
        dr = r / delta;
      } else {
        total += w[p] * (Math.abs(r) - 0.5 * delta);
        dr = Math.sign(r);
      }
      if (grad && g) for (let j = 0; j < k; j++) grad[j] += (w[p] * dr * g[p * k + j]) / pred[p];
      n += w[p];
    }
  }
  if (grad) for (let j = 0; j < k; j++) grad[j] /= n;
  return total / n;
}

/** Solves the small symmetric system A x = b (Gaussian elimination with partial pivoting); undefined when singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (!(Math.abs(m[p][c]) > 1e-300)) return undefined;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let j = c; j <= n; j++) m[r][j] -= f * m[c][j];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let j = r + 1; j < n; j++) s -= m[r][j] * x[j];
    x[r] = s / m[r][r];
  }
  return x.every(Number.isFinite) ? x : undefined;
}

/**
 * Starting points: every combination of the nonlinear parameters' grid values; for each, the linear
 * coefficients (L0 or E and AN, A, and C or B) by least squares on L, made positive. Ranked by the
 * objective; the best `keep` are returned.
 */
function gridCandidates(law: CurveLawForm, data: readonly RunData[], joint: boolean, fixed: ReadonlyMap<string, number>, loss: LossName, delta: number, keep: number): number[][] {
  const names = law.paramNames(joint);
  const ts = law.transforms(joint);
  const nonlinear = Object.keys(law.startGrid).filter((n) => names.includes(n));
  let combos: Record<string, number>[] = [{}];
  for (const n of nonlinear) {
    const values = fixed.has(n) ? [fixed.get(n)!] : law.startGrid[n];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [n]: v })));
  }
  const ranked: { theta: number[]; f: number; index: number }[] = [];
  combos.forEach((natural, index) => {
    const cols = data.map((d) => law.linearColumns(natural, d.f, joint));
    const lin = cols[0].names;
    const q = lin.length;
    const ata = Array.from({ length: q }, () => new Array<number>(q).fill(0));
    const atb = new Array<number>(q).fill(0);
    data.forEach((d, r) => {
      for (let p = 0; p < d.logL.length; p++) {
        const y = Math.exp(d.logL[p]);
        const w = d.weights[p];
        for (let i = 0; i < q; i++) {
          const ci = w * cols[r].columns[i][p];
          atb[i] += ci * y;
          for (let j = 0; j < q; j++) ata[i][j] += ci * cols[r].columns[j][p];
        }
      }
    });
    for (let i = 0; i < q; i++) ata[i][i] += 1e-12 * (ata[i][i] + 1); // joint fits of one size: keep it solvable
    const x = solve(ata, atb);
    if (!x) return;
    const values: Record<string, number> = { ...natural };
    lin.forEach((n, i) => (values[n] = Math.max(x[i], 1e-6)));
    // The linear solve gives the coupled parameter's product (multi-power: B·β) as its coefficient.
    if (law.coupled && lin.includes(law.coupled.param)) values[law.coupled.param] /= values[law.coupled.by];
    fixed.forEach((v, n) => (values[n] = v));
    const theta = curveTheta(law, joint, values);
    const f = curveObjective(law, data, joint, loss, delta, Float64Array.from(theta));
    ranked.push({ theta, f: Number.isFinite(f) ? f : Infinity, index });
  });
  ranked.sort((a, b) => a.f - b.f || a.index - b.index);
  return ranked.slice(0, keep).map((r) => r.theta);
}

/**
 * Fits a whole-curve law to one or more runs: Huber loss on log L over every kept loss of every run,
 * L-BFGS from the best grid starts (nonlinear parameters on a grid, linear ones by least squares).
 * Runs of two or more model sizes are fitted jointly, with the floor L0(N) = E + AN·N^(−alphaN) and the
 * curve's shape shared. Deterministic for given runs, whatever their order.
 */
export function fitCurveLaw(runsIn: readonly CurveRun[], options: CurveFitOptions = {}): FittedCurveLaw {
  const law = getCurveLaw(options.law ?? 'annealing');
  const loss = options.loss ?? 'huber';
  if (loss !== 'huber' && loss !== 'l2') throw mismatch('loss', 'huber or l2', JSON.stringify(loss));
  const delta = options.delta ?? 1e-3;
  if (!(delta > 0)) throw mismatch('huber delta', 'a positive number', String(delta));
  const earlyFraction = options.earlyFraction ?? 0.1;
  const runs = [...runsIn].sort((a, b) => (a.params ?? 0) - (b.params ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sizes = runSizes(runs);
  const joint = options.joint ?? sizes.length >= 2;
  if (joint && sizes.length === 0) throw mismatch('params', 'every run\'s parameter count for a fit across model sizes', 'none');
  const data = prepareRuns(runs, earlyFraction, options.maxBins);
  const names = law.paramNames(joint);
  const ts = law.transforms(joint);
  const fixed = new Map<string, number>();
  for (const [n, v] of Object.entries(options.fixed ?? {})) {
    if (!names.includes(n)) throw mismatch(`fixed parameter ${JSON.stringify(n)}`, `one of ${names.join(', ')}`, JSON.stringify(n));
    fromNatural(ts[names.indexOf(n)], v, `fixed parameter ${n}`);
    fixed.set(n, v);
  }
  if (law.coupled && fixed.has(law.coupled.param) && !fixed.has(law.coupled.by)) {
    throw mismatch(`fixed parameter ${law.coupled.param}`, `${law.coupled.by} fixed too (the fit works on ${law.coupled.param}·${law.coupled.by})`, `${law.coupled.by} free`);
  }
  // Theta entries of the fixed parameters (a coupled one also needs its partner's value).
  const fixedTheta = new Map<number, number>();
  if (fixed.size > 0) {
    const probe = curveTheta(law, joint, { ...Object.fromEntries(names.map((n, j) => [n, ts[j] === 'logit' ? 0.5 : 1])), ...Object.fromEntries(fixed) });
    fixed.forEach((_, n) => fixedTheta.set(names.indexOf(n), probe[names.indexOf(n)]));
  }
  if (fixed.size === names.length) throw mismatch('fixed parameters', 'at least one parameter left to fit', 'all fixed');
  const pointCount = data.reduce((s, d) => s + d.weights.reduce((a, w) => a + (w > 0 ? 1 : 0), 0), 0);
  const free = names.map((_, j) => j).filter((j) => !fixed.has(names[j]));
  if (pointCount <= free.length) throw mismatch('losses to fit', `more than the ${free.length} free parameters`, String(pointCount));
  const warnings: string[] = [];
  if (sizes.length === 2 && !['E', 'AN', 'alphaN'].some((n) => fixed.has(n))) warnings.push(TWO_SIZES_CURVE_WARNING);
  const annealed = data.some((d) => d.run.lr.length > 0 && d.f.bins.end.length > 0 && d.f.bins.end[0] < d.f.idx[d.f.idx.length - 1]);
  if (!annealed && !law.annealingParams.every((n) => fixed.has(n))) {
    warnings.push(`no fitted run anneals its LR before its last fitted loss: ${law.annealingParams.join(', ')} are not identified (fit a decaying run too, or hold them with --prior law.json)`);
  }

  const candidates: number[][] = options.gridless ? [] : gridCandidates(law, data, joint, fixed, loss, delta, Math.max(1, Math.floor(options.starts ?? 8)));
  for (const s of options.extraStarts ?? []) {
    if (s.length !== names.length) throw mismatch('start point length', String(names.length), String(s.length));
    candidates.push(s.map((v, j) => fixedTheta.get(j) ?? v));
  }
  if (candidates.length === 0) throw mismatch('starting points', 'at least one with a finite objective', 'none');

  const expand = (x: ArrayLike<number>, base: readonly number[]) => {
    const theta = Float64Array.from(base);
    free.forEach((j, i) => (theta[j] = x[i]));
    return theta;
  };
  let best: { theta: Float64Array; f: number; iterations: number } | undefined;
  for (const start of candidates) {
    const full = new Float64Array(names.length);
    const r = lbfgs(
      (x, grad) => {
        const f = curveObjective(law, data, joint, loss, delta, expand(x, start), full);
        free.forEach((j, i) => (grad[i] = full[j]));
        return f;
      },
      Float64Array.from(free, (j) => start[j]),
      { maxIterations: options.maxIterations ?? 500, relTolerance: 1e-10 },
    );
    if (Number.isFinite(r.f) && (!best || r.f < best.f)) best = { theta: expand(r.x, start), f: r.f, iterations: r.iterations };
  }
  if (!best) throw mismatch('fit', 'a finite objective from at least one start', 'none');
  const theta = Array.from(best.theta);

  let sq = 0;
  let weight = 0;
  for (const d of data) {
    const pred = new Float64Array(d.logL.length);
    law.predict(theta, d.f, joint, pred);
    pred.forEach((v, p) => {
      sq += d.weights[p] * (v / Math.exp(d.logL[p]) - 1) ** 2;
      weight += d.weights[p];
    });
  }
  const params = curveParams(law, joint, theta);
  return {
    law: law.name,
    formula: law.formula(joint),
    joint,
    loss,
    delta,
    earlyFraction,
    theta,
    params,
    objective: best.f,
    rmsRelativeError: Math.sqrt(sq / weight),
    points: pointCount,
    sizes: Math.max(1, sizes.length),
    runs: data.map((d) => summarise(d)),
    startsRun: candidates.length,
    iterations: best.iterations,
    ...(fixed.size > 0 ? { fixed: Object.fromEntries([...fixed].map(([n]) => [n, params[n]])) } : {}),
    warnings,
  };
}

function summarise(d: RunData): CurveRunSummary {
  const { run, f } = d;
  const tokensPerStep = run.tokens && run.tokens.length > 0 ? run.tokens[run.tokens.length - 1] / run.tokens.length : undefined;
  return {
    name: run.name,
    ...(run.params !== undefined ? { params: run.params } : {}),
    steps: run.lr.length,
    peakLr: Math.max(...run.lr),
    warmup: warmupSteps(run.lr),
    ...(tokensPerStep !== undefined && tokensPerStep > 0 ? { tokensPerStep } : {}),
    points: d.weights.filter((w) => w > 0).length,
    firstStep: f.idx[0] + 1,
    lastStep: f.idx[f.idx.length - 1] + 1,
  };
}
