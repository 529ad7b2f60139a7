import { mismatch } from './errors.js';

/** One observation: a model of `params` parameters after `tokens` training tokens had loss `loss`. */
export interface Point {
  params: number;
  tokens: number;
  loss: number;
  /** Run name; bootstrap resamples whole models, and the evaluation protocol picks models by it. */
  model?: string;
  /** Model family (for the evaluation protocol, which is run per family). */
  family?: string;
  /** Where the point came from, for error messages: e.g. `data.csv row 12`. */
  where?: string;
}

/** Minimum number of distinct model sizes a fit needs. */
export const MIN_MODEL_SIZES = 3;

/** The run a point belongs to: its `model` name, or its parameter count when it has none. */
export function modelKey(p: Point): string {
  return p.model ?? `N=${p.params}`;
}

/**
 * Checks every point has positive finite params, tokens and loss and that there are at least three
 * distinct model sizes; throws a ScalingLawError naming the first bad row otherwise.
 */
export function validatePoints(points: readonly Point[]): { modelSizes: number } {
  points.forEach((p, i) => {
    for (const key of ['params', 'tokens', 'loss'] as const) {
      const v = p[key];
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
        throw mismatch(`${p.where ?? `point ${i + 1}`}: ${key}`, 'a positive finite number', String(v));
      }
    }
  });
  const modelSizes = new Set(points.map((p) => p.params)).size;
  if (modelSizes < MIN_MODEL_SIZES) {
    throw mismatch('distinct model sizes', `at least ${MIN_MODEL_SIZES}`, String(modelSizes));
  }
  return { modelSizes };
}
