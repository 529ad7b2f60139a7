import { mismatch } from './errors.js';
import { fitLaw, type FitOptions, type FittedLaw } from './fit.js';
import { getLaw, thetaToParams } from './laws.js';
import { MIN_MODEL_SIZES, countModelSizes, modelKeys, validatePoints, type Point } from './points.js';
import { mulberry32 } from './random.js';
import { percentileInterval, standardDeviation } from './stats.js';

export interface BootstrapOptions extends FitOptions {
  /** Resamples; default 200. */
  samples?: number;
  /** PRNG seed; the same seed and data give the same resamples. Default 0. */
  seed?: number;
  /** Central interval probability; default 0.95. */
  confidence?: number;
  /** Called after each resample is fitted. */
  onProgress?: (done: number, total: number) => void;
}

/** Parameter uncertainty from refitting on resampled models. */
export interface BootstrapResult {
  samples: number;
  seed: number;
  confidence: number;
  /** Log-space parameters of every resample's fit (used for prediction intervals). */
  thetas: number[][];
  /** Percentile interval of every natural-space parameter. */
  intervals: Record<string, [number, number]>;
  /** Bootstrap standard error of every natural-space parameter. */
  standardErrors: Record<string, number>;
}

/**
 * Bootstrap over models, not over points: each resample draws as many runs as the data has, with
 * replacement, keeps every point of each drawn run, and refits from the full fit's parameters.
 * Resamples with fewer than two distinct model sizes are drawn again.
 */
export function bootstrapFit(points: readonly Point[], full: FittedLaw, options: BootstrapOptions = {}): BootstrapResult {
  const samples = options.samples ?? 200;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(samples) || samples < 2) throw mismatch('bootstrap samples', 'an integer ≥ 2', String(samples));
  if (!(confidence > 0 && confidence < 1)) throw mismatch('confidence', 'a number between 0 and 1', String(confidence));
  const law = getLaw(full.law);
  const sorted = [...points].sort((a, b) => a.params - b.params || a.tokens - b.tokens || a.loss - b.loss);
  const keys = modelKeys(sorted);
  const groups = new Map<string, Point[]>();
  sorted.forEach((p, i) => groups.set(keys[i], [...(groups.get(keys[i]) ?? []), p]));
  const runs = [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
  validatePoints(points);

  const rand = mulberry32(seed);
  const thetas: number[][] = [];
  for (let s = 0; s < samples; s++) {
    let resample: Point[] = [];
    for (let attempt = 0; ; attempt++) {
      const drawn = Array.from({ length: runs.length }, () => runs[Math.floor(rand() * runs.length)]);
      resample = drawn.flat();
      if (countModelSizes(resample) >= MIN_MODEL_SIZES) break;
      if (attempt === 1000) throw mismatch('bootstrap resample', `${MIN_MODEL_SIZES} distinct model sizes within 1000 draws`, 'fewer');
    }
    const fit = fitLaw(resample, { ...options, law: full.law, loss: full.loss, delta: full.delta, gridless: true, extraStarts: [full.theta], fixed: full.fixed });
    thetas.push(fit.theta);
    options.onProgress?.(s + 1, samples);
  }

  const intervals: Record<string, [number, number]> = {};
  const standardErrors: Record<string, number> = {};
  const natural = thetas.map((t) => thetaToParams(law, t));
  for (const name of law.paramNames) {
    const values = natural.map((p) => p[name]);
    intervals[name] = percentileInterval(values, confidence);
    standardErrors[name] = standardDeviation(values);
  }
  return { samples, seed, confidence, thetas, intervals, standardErrors };
}
