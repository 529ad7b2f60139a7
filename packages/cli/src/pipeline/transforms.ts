/**
 * The pipeline's model transforms, one call each into the technique packages. The same code runs on a
 * fresh initialisation (to learn each stage's architecture before anything trains) and on the trained
 * checkpoint; the caller owns and disposes the input tensors.
 */
import { tf, type ModelConfig, type Params } from '@efficientscale/core';
import { growModel } from '@efficientscale/progressive';
import { upcycle } from '@efficientscale/moe';
import { toLowRank } from '@efficientscale/lowrank';
import type { GrowStage, LowrankStage, UpcycleStage } from './plan.js';

export type TransformStage = GrowStage | UpcycleStage | LowrankStage;

export interface ModelState {
  config: ModelConfig;
  params: Params;
  /** AdamW moments `m.<weight>` / `v.<weight>`. */
  optimizer?: Record<string, tf.Tensor>;
}

export interface TransformOutcome extends ModelState {
  /** One line for people: what changed and how well the function was kept. */
  summary: string;
  report: object;
}

export function applyTransform(stage: TransformStage, m: ModelState, calibration?: tf.Tensor2D): TransformOutcome {
  if (stage.type === 'grow') {
    const g = growModel(m.config, m.params, { hidden: stage.hidden, heads: stage.heads, kvHeads: stage.kvHeads, ffn: stage.ffn, layers: stage.layers, widthMethod: stage.widthMethod as never, depthMethod: stage.depthMethod as never, depthExact: stage.depthExact, seed: stage.seed }, m.optimizer);
    const r = g.report;
    return { ...g, report: r, summary: `grew ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters (${r.exact ? 'exact by construction' : 'not exact'}; probe max |Δlogit| ${r.maxLogitGap.toExponential(2)})` };
  }
  if (stage.type === 'upcycle') {
    const u = upcycle(m.config, m.params, {
      experts: stage.experts,
      topK: stage.topK,
      routerInit: stage.routerInit,
      noise: stage.noise,
      dropFraction: stage.dropFraction,
      granularity: stage.granularity,
      layers: stage.layers,
      seed: stage.seed,
      calibrationTokens: calibration,
      optimizer: m.optimizer,
      resetOptimizer: stage.resetOptimizer,
    });
    const r = u.report;
    return {
      config: u.config,
      params: u.params,
      optimizer: u.optimizer,
      report: r,
      summary: `upcycled to ${r.experts} experts top-${r.topK}: ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters, active per token ${r.activeMatmulParamsBefore.toLocaleString('en')} → ${r.activeMatmulParamsAfter.toLocaleString('en')} (max |Δlogit| ${r.maxAbsLogitDiff.toExponential(2)})`,
    };
  }
  const l = toLowRank(m.config, m.params, { rank: stage.rank, fraction: stage.fraction, energy: stage.energy, keepFirstDense: stage.keepFirstDense, shareGateUpV: stage.shareGateUpV });
  const r = l.report;
  // Factors have new shapes: their AdamW moments start at zero (no optimizer state is carried).
  return { config: l.config, params: l.params, report: r, summary: `low-rank FFNs: ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')} parameters (probe relative logit change ${r.probeRelativeLogitDiff.toExponential(2)})` };
}
