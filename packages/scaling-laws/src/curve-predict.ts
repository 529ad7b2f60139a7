import { mismatch } from './errors.js';
import { checkSchedule } from './lr-areas.js';
import { curveFeatures, getCurveLaw, type CurveLawName } from './curve-laws.js';
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
