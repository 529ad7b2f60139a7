import { applyPlan, copyOutput, countParams, dimsOf, ffnKinds, layerPrefix, tf, weightTable, withFfnKinds, withFfnOptions, withoutMoments, type ModelConfig, type Params, type PlanOutput, type TransformPlan } from '@efficientscale/core/node';
import { layerRanks, lowRankOptions } from './options.js';
import { sharedVName, uName, vName } from './ffn.js';

export interface ToDenseReport {
  /** Layers whose FFN was multiplied out. */
  layers: number[];
  paramsBefore: number;
  paramsAfter: number;
}

/**
 * `lowrank` layers → dense by multiplying the factors out (W = U·V; a self-guided layer's α·W + (1−α)·U·V,
 * what its forward computes), as a plan: the result is a plain Llama checkpoint that any Hugging Face
 * loader reads (the efficientscale key is dropped once nothing needs it).
 */
export function planDense(config: ModelConfig): TransformPlan<ToDenseReport> {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const layers = kinds.flatMap((k, i) => (k === 'lowrank' ? [i] : []));
  const newConfig = withFfnOptions(withFfnKinds(config, kinds.map((k) => (k === 'lowrank' ? 'dense' : k))), 'lowrank', undefined);

  const lowrank = new Set(layers);
  const o = layers.length > 0 ? lowRankOptions(config) : {};
  const alpha = o.self_guided ? (o.guide_alpha ?? 1) : 0;
  const outputs: PlanOutput[] = weightTable(newConfig).map((w): PlanOutput => {
    if (w.layer === undefined || !lowrank.has(w.layer) || w.owner !== 'dense') return copyOutput(w.name, w.name, w.shape);
    const p = layerPrefix(w.layer);
    const proj = w.name.slice(p.length).match(/^mlp\.(\w+)\.weight$/)![1];
    const shared = layerRanks(config, d, w.layer).shared;
    const u = p + uName(proj);
    const v = p + (shared && proj !== 'down_proj' ? sharedVName : vName(proj));
    const [m, n] = w.shape;
    return {
      name: w.name,
      shape: w.shape,
      compute: (read) =>
        tf.tidy(() => {
          const product = tf.matMul(tf.tensor2d(read(u), [m, read(u).length / m]), tf.tensor2d(read(v), [read(v).length / n, n]));
          const mixed = alpha === 0 ? product : tf.add(tf.mul(tf.tensor2d(read(w.name), [m, n]), alpha), tf.mul(product, 1 - alpha));
          return Float32Array.from(mixed.dataSync());
        }),
    };
  });
  // A plain checkpoint: weights only (it starts a run with --init-from).
  return { config: newConfig, outputs: withoutMoments(outputs), report: { layers, paramsBefore: countParams(config), paramsAfter: countParams(newConfig) } };
}

/** `lowrank` layers → dense in memory (planDense run on `params`). */
export function toDense(config: ModelConfig, params: Params): { config: ModelConfig; params: Params; report: ToDenseReport } {
  const plan = planDense(config);
  return { config: plan.config, params: applyPlan(plan, params).params, report: plan.report };
}
