import { mismatch } from './errors.js';

/** One observation: a model of `params` parameters after `tokens` training tokens had loss `loss`. */
export interface Point {
  params: number;
  tokens: number;
  loss: number;
  /** Distinct tokens in the training data, when it was repeated (D > U); used by the repetition law. */
  uniqueTokens?: number;
  /** Run name; bootstrap resamples whole models, and the evaluation protocol picks models by it. */
  model?: string;
  /** Model family (for the evaluation protocol, which is run per family). */
  family?: string;
  /** Where the point came from, for error messages: e.g. `data.csv row 12`. */
  where?: string;
}

/** Minimum number of distinct model sizes a fit needs (with two, fitLaw warns that alpha is weakly identified). */
export const MIN_MODEL_SIZES = 2;

/** Parameter counts within this relative distance of their neighbour count as one model size. */
export const SIZE_TOLERANCE = 0.005;

/**
 * Clusters parameter counts: sorted, a count within SIZE_TOLERANCE of the previous one joins its
 * cluster. Digitised data (the Chinchilla points read off a figure) give the same model slightly
 * different counts; this folds them back into one size. Returns each count's cluster representative.
 */
export function sizeClusters(params: readonly number[]): Map<number, number> {
  const sorted = [...new Set(params)].sort((a, b) => a - b);
  const out = new Map<number, number>();
  let rep = Number.NaN;
  let prev = Number.NaN;
  for (const n of sorted) {
    if (!(n <= prev * (1 + SIZE_TOLERANCE))) rep = n;
    out.set(n, rep);
    prev = n;
  }
  return out;
}

/** The run each point belongs to: its `model` name, or else its model size (clustered by sizeClusters). */
export function modelKeys(points: readonly Point[]): string[] {
  const clusters = sizeClusters(points.map((p) => p.params));
  return points.map((p) => p.model ?? `N=${clusters.get(p.params)}`);
}

/** Number of distinct model sizes (clustered by sizeClusters). */
export function countModelSizes(points: readonly Point[]): number {
  return new Set(sizeClusters(points.map((p) => p.params)).values()).size;
}

/**
 * Checks every point has positive finite params, tokens and loss and that there are at least two
 * distinct model sizes; throws a ScalingLawError naming the first bad row otherwise.
 */
export function validatePoints(points: readonly Point[]): { modelSizes: number } {
  points.forEach((p, i) => {
    for (const key of ['params', 'tokens', 'loss', 'uniqueTokens'] as const) {
      const v = p[key];
      if (key === 'uniqueTokens' && v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw mismatch(`${p.where ?? `point ${i + 1}`}: ${key}`, 'a positive finite number', String(v));
      }
    }
  });
  const modelSizes = countModelSizes(points);
  if (modelSizes < MIN_MODEL_SIZES) {
    throw mismatch('distinct model sizes', `at least ${MIN_MODEL_SIZES} (the N-exponent needs two sizes to compare)`, String(modelSizes));
  }
  return { modelSizes };
}
