/**
 * The pipeline's model transforms as plans, one call each into the technique packages. The layout reads
 * each stage's architecture from its plan's config (no weights needed, except for ranks picked by energy,
 * which read a fresh initialisation's spectra); the transform stage runs the plan on the trained checkpoint.
 */
import { tf, type LogitGap, type ModelConfig, type Params, type TransformPlan } from '@efficientscale/core';
import { planGrow, type GrowPlanReport } from '@efficientscale/progressive';
import { planUpcycle, upcycleStats, type UpcyclePlanReport } from '@efficientscale/moe';
import { lowRankStats, planLowRank, type LowRankPlanReport } from '@efficientscale/lowrank';
import type { GrowStage, LowrankStage, UpcycleStage } from './plan.js';

export type TransformStage = GrowStage | UpcycleStage | LowrankStage;

/** What a stage's plan needs: the model's config, and its weights where the plan reads statistics of them. */
export interface StageInput {
  config: ModelConfig;
  params?: Params;
  /** Tokens for the statistics of a forward pass (k-means routers). */
  calibration?: tf.Tensor2D;
}

/** The stage's options for its technique's planner. */
export function stagePlan(stage: TransformStage, m: StageInput): TransformPlan<object> {
  if (stage.type === 'grow') {
    return planGrow(m.config, { hidden: stage.hidden, heads: stage.heads, kvHeads: stage.kvHeads, ffn: stage.ffn, layers: stage.layers, widthMethod: stage.widthMethod as never, depthMethod: stage.depthMethod as never, depthExact: stage.depthExact, seed: stage.seed });
  }
  if (stage.type === 'upcycle') {
    const options = { experts: stage.experts, topK: stage.topK, routerInit: stage.routerInit, noise: stage.noise, dropFraction: stage.dropFraction, granularity: stage.granularity, layers: stage.layers, seed: stage.seed, resetOptimizer: stage.resetOptimizer, auxLossCoef: stage.auxLossCoef, zLossCoef: stage.zLossCoef };
    return planUpcycle(m.config, options, stage.routerInit === 'kmeans' ? upcycleStats(m.config, m.params!, m.calibration!) : undefined);
  }
  const options = { rank: stage.rank, fraction: stage.fraction, energy: stage.energy, keepFirstDense: stage.keepFirstDense, shareGateUpV: stage.shareGateUpV };
  return planLowRank(m.config, options, m.params ? lowRankStats(m.config, m.params, options) : {});
}

/** Whether the stage's plan reads the weights (statistics of the model), not just its config. */
export const planReadsWeights = (stage: TransformStage) => (stage.type === 'upcycle' && stage.routerInit === 'kmeans') || (stage.type === 'lowrank' && stage.energy !== undefined);

/** One line for people: what changed and how well the function was kept. */
export function stageSummary(stage: TransformStage, report: object, probe: LogitGap | undefined): string {
  const gap = probe ? probe.maxAbsLogitDiff.toExponential(2) : 'not measured';
  if (stage.type === 'grow') {
    const r = report as GrowPlanReport;
    return `grew ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters (${r.exact ? 'exact by construction' : 'not exact'}; probe max |Δlogit| ${gap})`;
  }
  if (stage.type === 'upcycle') {
    const r = report as UpcyclePlanReport;
    return `upcycled to ${r.experts} experts top-${r.topK}: ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters, active per token ${r.activeMatmulParamsBefore.toLocaleString('en')} → ${r.activeMatmulParamsAfter.toLocaleString('en')} (max |Δlogit| ${gap})`;
  }
  const r = report as LowRankPlanReport;
  // Factors have new shapes: their AdamW moments start at zero.
  return `low-rank FFNs: ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters (probe relative logit change ${probe ? probe.relativeLogitDiff.toExponential(2) : 'not measured'})`;
}
