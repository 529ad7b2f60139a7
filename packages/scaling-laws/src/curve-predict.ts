import { mismatch } from './errors.js';
import { checkSchedule } from './lr-areas.js';
import { curveFeatures, curveParams as curveParamsOf, getCurveLaw, type CurveLawName } from './curve-laws.js';
import { percentileInterval } from './stats.js';

/** What curve prediction needs: the law, its fitted theta and, optionally, bootstrap refits. */
export interface CurveLawEstimate {
  law: CurveLawName;
  /** Whether the law's floor depends on N (fitted on several model sizes). */
  joint: boolean;
  theta: readonly number[];
  bootstrap?: { thetas: readonly (readonly number[])[]; confidence: number };
}

/** The predicted loss at some steps of a schedule, with its bootstrap percentile interval when there is one. */
export interface CurvePrediction {
  /** 1-based steps. */
  steps: number[];
  loss: number[];
  lower?: number[];
  upper?: number[];
  confidence?: number;
}

/** About `count` steps spread evenly over a schedule of `total` steps, always including the last. */
export function evenSteps(total: number, count = 200): number[] {
  if (!(Number.isInteger(total) && total >= 1)) throw mismatch('steps', 'a positive integer', String(total));
  const n = Math.min(total, Math.max(1, Math.floor(count)));
  return [...new Set(Array.from({ length: n }, (_, i) => Math.max(1, Math.round(((i + 1) * total) / n))))];
}

/**
 * The loss a law predicts along a schedule (`lr[i]` the LR of step i + 1) at `steps` (default: 200 steps
 * spread over it). A joint law needs the model's `params`; a one-size law predicts its own size only.
 */
export function predictCurve(est: CurveLawEstimate, lr: ArrayLike<number>, options: { params?: number; steps?: readonly number[] } = {}): CurvePrediction {
  checkSchedule(lr);
  const law = getCurveLaw(est.law);
  if (est.joint && !(typeof options.params === 'number' && options.params > 0 && Number.isFinite(options.params))) {
    throw mismatch('params', 'the model size to predict (the law was fitted on several sizes)', String(options.params));
  }
  const steps = [...(options.steps ?? evenSteps(lr.length))];
  steps.forEach((s) => {
    if (!(Number.isInteger(s) && s >= 1 && s <= lr.length)) throw mismatch(`step ${s}`, `an integer from 1 to ${lr.length}`, String(s));
  });
  const order = steps.map((s, i) => i).sort((a, b) => steps[a] - steps[b]);
  const sorted = order.map((i) => steps[i]);
  const f = curveFeatures(lr, sorted.map((s) => s - 1), est.joint ? options.params : undefined);
  const at = (theta: readonly number[]) => {
    const out = new Float64Array(sorted.length);
    law.predict(theta, f, est.joint, out);
    const back = new Array<number>(steps.length);
    order.forEach((i, j) => (back[i] = out[j]));
    return back;
  };
  const loss = at(est.theta);
  const boot = est.bootstrap;
  if (!boot || boot.thetas.length < 2) return { steps, loss };
  const all = boot.thetas.map(at);
  const lower: number[] = [];
  const upper: number[] = [];
  steps.forEach((_, p) => {
    const [lo, hi] = percentileInterval(all.map((v) => v[p]).filter(Number.isFinite), boot.confidence);
    lower.push(lo);
    upper.push(hi);
  });
  return { steps, loss, lower, upper, confidence: boot.confidence };
}

/** A continued run's prediction and where its start was placed on the law's curve. */
export interface ContinuationPrediction extends CurvePrediction {
  /**
   * The forward area S1 at which the law's curve for this size has the start loss (the start's "effective"
   * LR area), and the same as steps at the schedule's peak LR.
   */
  effectiveArea: number;
  effectiveStepsAtPeak: number;
}

/**
 * The curve of a run that starts from a transformed model (grown, upcycled) part-way through a schedule:
 * the start is modelled as the law's curve for the new size at the forward area S1* where that curve has
 * the loss the run starts from (the loss at the transform, mapped onto the new size's curve: the LR area
 * the transform "transferred"), and training goes on from there along the rest of `lr`, the whole
 * schedule from step 1 (its annealing so far included). A model, not a law: a grown model need not learn
 * like a fresh one of its size with that much training behind it.
 * `startStep`: the steps done before the run starts (≥ 1); `steps`: later steps to predict (default 200).
 */
export function predictContinuation(
  est: CurveLawEstimate,
  lr: ArrayLike<number>,
  options: { params?: number; startStep: number; startLoss: number; steps?: readonly number[] },
): ContinuationPrediction {
  checkSchedule(lr);
  const { startStep, startLoss } = options;
  if (!(Number.isInteger(startStep) && startStep >= 1 && startStep < lr.length)) throw mismatch('start step', `an integer from 1 to ${lr.length - 1}`, String(startStep));
  if (!(startLoss > 0 && Number.isFinite(startLoss))) throw mismatch('start loss', 'a positive finite number', String(startLoss));
  const law = getCurveLaw(est.law);
  const params = est.joint ? options.params : undefined;
  if (est.joint && !(typeof params === 'number' && params > 0)) throw mismatch('params', 'the model size to predict (the law was fitted on several sizes)', String(params));
  const steps = [...(options.steps ?? evenSteps(lr.length - startStep).map((s) => s + startStep))];
  steps.forEach((s) => {
    if (!(Number.isInteger(s) && s > startStep && s <= lr.length)) throw mismatch(`step ${s}`, `an integer from ${startStep + 1} to ${lr.length}`, String(s));
  });
  const peak = Math.max(...Array.from(lr));
  const along = (theta: readonly number[]) => {
    // The law at the start step splits into K + A·S1^(−α) (K: the floor less the annealing so far); S1* solves K + A·S1*^(−α) = startLoss.
    const { A, alpha } = curveParamsOf(law, est.joint, theta);
    const at = curveFeatures(lr, [startStep - 1], params);
    const here = new Float64Array(1);
    law.predict(theta, at, est.joint, here);
    const s1 = at.s1[0];
    const k = here[0] - A * s1 ** -alpha;
    const gap = startLoss - k;
    // At or below the curve's floor (K) the start is as if trained without end: the curve stays at its floor.
    const star = gap > 0 ? (gap / A) ** (-1 / alpha) : Number.POSITIVE_INFINITY;
    const f = curveFeatures(lr, steps.map((s) => s - 1), params);
    f.areaOffset = Number.isFinite(star) ? star - s1 : 1e300;
    const out = new Float64Array(steps.length);
    law.predict(theta, f, est.joint, out);
    return { loss: Array.from(out), star };
  };
  const main = along(est.theta);
  const base = { steps, loss: main.loss, effectiveArea: main.star, effectiveStepsAtPeak: main.star / peak };
  const boot = est.bootstrap;
  if (!boot || boot.thetas.length < 2) return base;
  const all = boot.thetas.map((t) => along(t).loss);
  const lower: number[] = [];
  const upper: number[] = [];
  steps.forEach((_, p) => {
    const [lo, hi] = percentileInterval(all.map((v) => v[p]).filter(Number.isFinite), boot.confidence);
    lower.push(lo);
    upper.push(hi);
  });
  return { ...base, lower, upper, confidence: boot.confidence };
}
