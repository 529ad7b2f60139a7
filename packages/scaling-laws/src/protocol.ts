import { mismatch } from './errors.js';
import { fitLaw, type FitOptions, type FittedLaw } from './fit.js';
import { getLaw, predictWithTheta } from './laws.js';
import { MIN_MODEL_SIZES, modelKeys, type Point } from './points.js';
import { handleSizeChanges, type SizeChange, type SizeChangePolicy } from './size-changes.js';

/**
 * The evaluation protocol of Choshen, Zhang & Andreas, "A Hitchhiker's Guide to Scaling Law
 * Estimation" (ICML 2025): per family, the largest model is the target; its checkpoints past
 * `testFraction` of its tokens are the test points; the law is fitted on the smaller models'
 * checkpoints past the early cut-off (by default the first 10% of each run's tokens, the Guide's
 * advice, so that it suits runs of 1e5 tokens as well as 1e12); the score is the absolute relative
 * error mean |L − L̂| / L.
 */
export interface ProtocolOptions extends FitOptions {
  /** Absolute cut-off: training checkpoints at or below this many tokens are dropped. Overrides `earlyFraction`. */
  minTokens?: number;
  /** Relative cut-off: each smaller run's checkpoints at or below this fraction of its tokens are dropped. Default 0.1. */
  earlyFraction?: number;
  /** Target checkpoints past this fraction of the target's tokens are the test points. Default 0.7. */
  testFraction?: number;
  /** Partial runs: only the first `trainFraction` of each smaller model's tokens is used. Default 1. */
  trainFraction?: number;
  /** Use only the this many largest of the smaller models. Default: all. */
  smallerModels?: number;
  /** Runs whose parameter count changes (growth, upcycling): 'final' (default) keeps their records from the last change on; 'refuse' errs. */
  sizeChanges?: SizeChangePolicy;
}

export interface TestPrediction {
  tokens: number;
  loss: number;
  predicted: number;
}

/** The early-checkpoint cut-off a run of the protocol used. */
export type Cutoff = { kind: 'relative'; fraction: number } | { kind: 'absolute'; tokens: number };

/** `the first 10% of each run's tokens` or `1e+10 tokens`, for messages and reports. */
export function cutoffText(c: Cutoff): string {
  return c.kind === 'relative' ? `the first ${Number((c.fraction * 100).toPrecision(4))}% of each run's tokens` : `${c.tokens} tokens`;
}

export interface FamilyEvaluation {
  family: string;
  /** Which early checkpoints were dropped. */
  cutoff: Cutoff;
  target: { model: string; params: number; maxTokens: number };
  /** The smaller models used for the fit, smallest first. */
  trainModels: { model: string; params: number; points: number }[];
  fit: FittedLaw;
  test: TestPrediction[];
  /** Mean |L − L̂| / L over the test points. */
  are: number;
  /** Runs whose size changed, and which of their records were used (empty when none did). */
  sizeChanges: SizeChange[];
}

interface Run {
  key: string;
  params: number;
  points: Point[];
  maxTokens: number;
}

function runsOf(points: readonly Point[]): Run[] {
  const byKey = new Map<string, Point[]>();
  const keys = modelKeys(points);
  points.forEach((p, i) => byKey.set(keys[i], [...(byKey.get(keys[i]) ?? []), p]));
  return [...byKey.entries()]
    .map(([key, pts]) => {
      const sizes = new Set(pts.map((p) => p.params));
      if (sizes.size !== 1 && pts[0].model !== undefined) throw mismatch(`model ${key}`, 'one parameter count', [...sizes].join(' and '));
      return { key, params: pts[0].params, points: pts, maxTokens: Math.max(...pts.map((p) => p.tokens)) };
    })
    .sort((a, b) => a.params - b.params || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function fraction(what: string, v: number): number {
  if (!(v > 0 && v <= 1)) throw mismatch(what, 'a fraction in (0, 1]', String(v));
  return v;
}

function earlyFractionOf(v: number): number {
  if (!(v >= 0 && v < 1)) throw mismatch('early fraction', 'a fraction in [0, 1)', String(v));
  return v;
}

/** Runs the protocol on one family's points. */
export function evaluateFamily(points: readonly Point[], family: string, options: ProtocolOptions = {}): FamilyEvaluation {
  if (options.minTokens !== undefined && !(options.minTokens >= 0)) throw mismatch('min tokens', 'a number ≥ 0', String(options.minTokens));
  const cutoff: Cutoff =
    options.minTokens !== undefined
      ? { kind: 'absolute', tokens: options.minTokens }
      : { kind: 'relative', fraction: options.earlyFraction === undefined ? 0.1 : earlyFractionOf(options.earlyFraction) };
  const past = (p: Point, run: Run) => p.tokens > (cutoff.kind === 'absolute' ? cutoff.tokens : cutoff.fraction * run.maxTokens);
  const testFraction = fraction('test fraction', options.testFraction ?? 0.7);
  const trainFraction = fraction('train fraction', options.trainFraction ?? 1);
  const sized = handleSizeChanges(points, options.sizeChanges ?? 'final');
  const runs = runsOf(sized.points);
  const target = runs[runs.length - 1];
  if (!target) throw mismatch(`family ${family}`, 'at least one model', 'none');
  if (runs.filter((r) => r.params === target.params).length > 1) {
    throw mismatch(`family ${family}: largest model`, 'a single run of the largest size', `several of ${target.params} parameters`);
  }
  let smaller = runs.slice(0, -1);
  if (options.smallerModels !== undefined) {
    if (!(Number.isInteger(options.smallerModels) && options.smallerModels >= 1)) {
      throw mismatch('smaller models', 'a positive integer', String(options.smallerModels));
    }
    smaller = smaller.slice(-options.smallerModels);
  }
  const train = smaller
    .map((r) => ({ ...r, points: r.points.filter((p) => p.tokens <= trainFraction * r.maxTokens && past(p, r)) }))
    .filter((r) => r.points.length > 0);
  const trainPoints = train.flatMap((r) => r.points);
  const trainSizes = new Set(train.map((r) => r.params)).size;
  if (trainSizes < MIN_MODEL_SIZES) {
    const what = `family ${family}: smaller models with checkpoints past ${cutoffText(cutoff)}`;
    throw mismatch(what, `at least ${MIN_MODEL_SIZES} sizes (the largest model is the target)`, String(trainSizes));
  }
  const testPoints = target.points.filter((p) => p.tokens > testFraction * target.maxTokens);
  const fit = fitLaw(trainPoints, options);
  const law = getLaw(fit.law);
  const test = testPoints
    .map((p) => ({ tokens: p.tokens, loss: p.loss, predicted: predictWithTheta(law, fit.theta, p.params, p.tokens) }))
    .sort((a, b) => a.tokens - b.tokens || a.loss - b.loss);
  const are = test.reduce((s, t) => s + Math.abs(t.loss - t.predicted) / t.loss, 0) / test.length;
  return {
    family,
    cutoff,
    target: { model: target.key, params: target.params, maxTokens: target.maxTokens },
    trainModels: train.map((r) => ({ model: r.key, params: r.params, points: r.points.length })),
    fit,
    test,
    are,
    sizeChanges: sized.changes,
  };
}

/** Runs the protocol on every family (points without a family form the family 'all'), sorted by name. */
export function evaluateFamilies(points: readonly Point[], options: ProtocolOptions = {}): FamilyEvaluation[] {
  const families = new Map<string, Point[]>();
  for (const p of points) {
    const f = p.family ?? 'all';
    families.set(f, [...(families.get(f) ?? []), p]);
  }
  return [...families.keys()].sort().map((f) => evaluateFamily(families.get(f)!, f, options));
}
