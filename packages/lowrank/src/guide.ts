import { tf, dimsOf, ffnKinds, layerPrefix, withFfnOptions, type ModelConfig, type Params } from '@efficientscale/core';
import { lowRankOptions } from './options.js';

/** Cosine schedule of the self-guided mix: α = 1 at step 0 (dense), 0 at `total` (low-rank only). */
export function guideAlpha(step: number, total: number): number {
  if (step >= total) return 0;
  return 0.5 * (1 + Math.cos((Math.PI * Math.max(0, step)) / total));
}

/** A copy of the config with the self-guided α set (a Trainer reads `trainer.config` every step). */
export function withGuideAlpha(config: ModelConfig, alpha: number): ModelConfig {
  return withFfnOptions(config, 'lowrank', { ...lowRankOptions(config), self_guided: true, guide_alpha: alpha });
}

/** Ends self-guided training: drops the dense weights of lowrank layers and the guide options. */
export function dropGuide(config: ModelConfig, params: Params): { config: ModelConfig; params: Params } {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const drop = new Set<string>();
  for (let i = 0; i < d.layers; i++) {
    if (kinds[i] !== 'lowrank') continue;
    for (const proj of ['gate_proj', 'up_proj', 'down_proj']) drop.add(`${layerPrefix(i)}mlp.${proj}.weight`);
  }
  const out: Params = {};
  for (const [name, t] of Object.entries(params)) if (!drop.has(name)) out[name] = tf.clone(t);
  const { self_guided: _s, guide_alpha: _a, guide_fraction: _f, guide_steps: _n, guide_stochastic: _r, ...rest } = lowRankOptions(config);
  return { config: withFfnOptions(config, 'lowrank', rest), params: out };
}
