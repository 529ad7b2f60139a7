import { mismatch, ScalingLawError } from './errors.js';
import { curveParams, getCurveLaw } from './curve-laws.js';
import { fitCurveLaw, curvePointsKept, runSizes, type CurveFitOptions, type FittedCurveLaw } from './curve-fit.js';
import type { CurveRun } from './curve-run.js';
import { mulberry32 } from './random.js';
import { percentileInterval, standardDeviation } from './stats.js';

/**
 * What a bootstrap resample draws: whole runs with replacement ('runs'), or, within every run, contiguous
 * blocks of its measured losses with replacement ('blocks': the only choice for one run, and one that
 * keeps each run's schedule in every resample).
 */
export type CurveBootstrapUnit = 'runs' | 'blocks';

export interface CurveBootstrapOptions extends CurveFitOptions {
  samples?: number;
  seed?: number;
  confidence?: number;
  /** Default: 'runs' with three runs or more, else 'blocks'. */
  unit?: CurveBootstrapUnit;
  /** Blocks per run for unit 'blocks'; default 8. */
  blocks?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface CurveBootstrapResult {
  samples: number;
  seed: number;
  confidence: number;
  unit: CurveBootstrapUnit;
  thetas: number[][];
  intervals: Record<string, [number, number]>;
  standardErrors: Record<string, number>;
}

/** One run with its losses reweighted by drawing `blocks` contiguous blocks of its kept losses with replacement. */
function resampleBlocks(run: CurveRun, earlyFraction: number, blocks: number, rand: () => number): CurveRun {
  const kept = curvePointsKept(run, earlyFraction);
  const n = kept.steps.length;
  const b = Math.max(1, Math.min(blocks, Math.floor(n / 2)));
  const bounds = Array.from({ length: b + 1 }, (_, i) => Math.round((i * n) / b));
  const weights = new Array<number>(n).fill(0);
  for (let i = 0; i < b; i++) {
    const pick = Math.floor(rand() * b);
    for (let p = bounds[pick]; p < bounds[pick + 1]; p++) weights[p] += kept.weights[p];
  }
  return { ...run, steps: kept.steps, losses: kept.losses, weights };
}

/**
 * Bootstrap refits of a curve fit, each started from the full fit's parameters: over whole runs
 * (the run-to-run spread of curves), or over blocks of each run's losses (the spread within curves).
 */
export function bootstrapCurveFit(runs: readonly CurveRun[], full: FittedCurveLaw, options: CurveBootstrapOptions = {}): CurveBootstrapResult {
  const samples = options.samples ?? 200;
  const seed = options.seed ?? 0;
  const confidence = options.confidence ?? 0.95;
  const unit = options.unit ?? (runs.length >= 3 ? 'runs' : 'blocks');
  if (!Number.isInteger(samples) || samples < 2) throw mismatch('bootstrap samples', 'an integer ≥ 2', String(samples));
  if (!(confidence > 0 && confidence < 1)) throw mismatch('confidence', 'a number between 0 and 1', String(confidence));
  if (unit !== 'runs' && unit !== 'blocks') throw mismatch('bootstrap unit', 'runs or blocks', JSON.stringify(unit));
  if (unit === 'runs' && runs.length < 2) throw mismatch('bootstrap over runs', 'at least 2 runs', String(runs.length));
  const law = getCurveLaw(full.law);
  const sorted = [...runs].sort((a, b) => (a.params ?? 0) - (b.params ?? 0) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sizes = full.joint ? runSizes(sorted).length : 1;
  const rand = mulberry32(seed);
  const refit: CurveFitOptions = {
    law: full.law,
    loss: full.loss,
    delta: full.delta,
    earlyFraction: full.earlyFraction,
    fixed: full.fixed,
    maxBins: options.maxBins,
    maxIterations: options.maxIterations,
    gridless: true,
    extraStarts: [full.theta],
    joint: full.joint,
  };
  const thetas: number[][] = [];
  for (let s = 0; s < samples; s++) {
    // Resamples a fit refuses (too few losses left in a run) or that lose the sizes a joint fit needs are drawn again.
    for (let attempt = 0; ; attempt++) {
      const resample =
        unit === 'blocks'
          ? sorted.map((r) => resampleBlocks(r, full.earlyFraction, options.blocks ?? 8, rand))
          : Array.from({ length: sorted.length }, () => sorted[Math.floor(rand() * sorted.length)]);
      if (!full.joint || runSizes(resample).length >= Math.min(2, sizes)) {
        try {
          thetas.push(fitCurveLaw(resample, refit).theta);
          break;
        } catch (err) {
          if (!(err instanceof ScalingLawError)) throw err;
        }
      }
      if (attempt === 1000) throw mismatch('bootstrap resample', 'a resample the law can be fitted to within 1000 draws', 'none');
    }
    options.onProgress?.(s + 1, samples);
  }
  const natural = thetas.map((t) => curveParams(law, full.joint, t));
  const intervals: Record<string, [number, number]> = {};
  const standardErrors: Record<string, number> = {};
  for (const name of law.paramNames(full.joint)) {
    const values = natural.map((p) => p[name]);
    intervals[name] = percentileInterval(values, confidence);
    standardErrors[name] = standardDeviation(values);
  }
  return { samples, seed, confidence, unit, thetas, intervals, standardErrors };
}
