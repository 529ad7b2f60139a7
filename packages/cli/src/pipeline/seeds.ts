/**
 * `pipeline --seeds` and `--lr-sweep`: a saving is only as honest as its baseline and its seed. Each
 * seed runs the whole plan (pipeline and baseline, weights and data order from that seed) in its own
 * directory; the sweep runs the baseline at several multiples of its peak learning rate and keeps the
 * best. The summary gives every seed's saving and their median and range.
 */
import * as path from 'node:path';
import { mismatch } from '@efficientscale/core';
import type { BaselineStage, Plan } from './plan.js';
import { runPipeline, type PipelineResult, type RunOptions } from './run.js';
import type { PredictionRow } from './predict-report.js';

/** The plan with its baseline stage replaced by one baseline per LR multiplier (named `baseline-x0.5`, ...). */
export function withLrSweep(plan: Plan, multipliers: readonly number[]): Plan {
  const baselines = plan.stages.filter((s) => s.type === 'baseline');
  if (baselines.length !== 1) throw mismatch('--lr-sweep', 'a plan with one baseline stage (the sweep runs it at each learning-rate multiplier)', `${baselines.length} baseline stages`);
  const i = plan.stages.indexOf(baselines[0]);
  const base = baselines[0] as BaselineStage;
  const swept = multipliers.map((m) => ({ ...base, name: `${base.name ?? 'baseline'}-x${m}`, lr: (base.lr ?? plan.lr) * m }));
  return { ...plan, stages: [...plan.stages.slice(0, i), ...swept, ...plan.stages.slice(i + 1)] };
}

/** A final eval loss as predicted before training and as measured. */
export interface PredictedFinal {
  predicted: number;
  measured: number | null;
  error: number | null;
}

/** What one seed measured (`pipeline --json` lists one per seed). */
export interface SeedResult {
  seed: number;
  /** The seed's output directory (its report.md, report.json and stage directories). */
  out: string;
  /** 1 − pipeline FLOPs to reach the baseline's final eval loss / the baseline's FLOPs; null: not reached. */
  saving: number | null;
  targetLoss?: number;
  pipelineFlops: number | null;
  baselineFlops?: number;
  pipelineFinalLoss?: number;
  /** The baseline that set the bar (the best of a sweep) and its peak learning rate. */
  baseline?: string;
  baselineLr?: number;
  /** Every baseline's peak learning rate and final eval loss (one without a sweep). */
  baselines: Array<{ label: string; lr: number; finalLoss: number | null }>;
  /** With a law: the predicted and measured final eval loss of the baseline and of the pipeline, and the errors. */
  prediction?: { baseline?: PredictedFinal; pipeline?: PredictedFinal };
  /** Tokens after each transform until the pipeline was back at or below the baseline's curve (null: not within the next stage). */
  catchUp: Array<{ stage: string; atTokens: number; tokens: number | null }>;
}

const finalOf = (r: PredictionRow | undefined): PredictedFinal | undefined => (r ? { predicted: r.predicted, measured: r.measured, error: r.error } : undefined);

export function seedResult(seed: number, out: string, r: PipelineResult): SeedResult {
  const report = r.report;
  const s = report?.saving;
  const best = report?.baselines.find((b) => b.best);
  return {
    seed,
    out,
    saving: s?.saving ?? null,
    targetLoss: s?.targetLoss,
    pipelineFlops: s?.pipelineFlops ?? null,
    baselineFlops: s?.baselineFlops,
    pipelineFinalLoss: report?.pipelineFinalLoss,
    baseline: best?.label,
    baselineLr: best?.lr,
    baselines: (report?.baselines ?? []).map((b) => ({ label: b.label, lr: b.lr, finalLoss: b.finalLoss ?? null })),
    catchUp: (report?.catchUp ?? []).map((c) => ({ stage: c.stage, atTokens: c.atTokens, tokens: c.tokens ?? null })),
    ...(report?.prediction ? { prediction: { baseline: finalOf(report.prediction.baseline), pipeline: finalOf(report.prediction.pipeline) } } : {}),
  };
}

/** Median and range of per-seed savings; a seed that never reached its baseline counts as the worst. */
export interface SavingSummary {
  /** Undefined when the median falls on a seed that did not reach its baseline. */
  median?: number;
  /** Undefined when some seed did not reach its baseline. */
  min?: number;
  max?: number;
  reached: number;
  seeds: number;
}

export function summarizeSavings(savings: ReadonlyArray<number | null | undefined>): SavingSummary {
  const sorted = savings.map((s) => (s === null || s === undefined ? -Infinity : s)).sort((a, b) => a - b);
  const n = sorted.length;
  const finite = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : undefined);
  const mid = n % 2 === 1 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  const reached = sorted.filter(Number.isFinite);
  return { median: n ? finite(mid) : undefined, min: finite(sorted[0]), max: reached.length ? reached[reached.length - 1] : undefined, reached: reached.length, seeds: n };
}

/** The plan one seed runs: that seed, into `out/seed-N`. */
export const seedPlan = (plan: Plan, seed: number): Plan => ({ ...plan, seed, out: path.join(plan.out, `seed-${seed}`) });

/** Runs the plan once per seed into `out/seed-N`; stops at the first seed that does not complete. */
export async function runSeeds(plan: Plan, seeds: readonly number[], o: RunOptions): Promise<{ complete: boolean; results: Array<{ seed: number; out: string; result: PipelineResult }> }> {
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (twice !== undefined) throw mismatch('--seeds', 'each seed once', `${twice} twice`);
  const results: Array<{ seed: number; out: string; result: PipelineResult }> = [];
  for (const seed of seeds) {
    const { out } = seedPlan(plan, seed);
    o.log(`seed ${seed} (${results.length + 1} of ${seeds.length}) → ${path.relative('.', out) || '.'}`);
    const result = await runPipeline(seedPlan(plan, seed), o);
    results.push({ seed, out, result });
    if (!result.complete) return { complete: false, results };
  }
  return { complete: true, results };
}
