import { tf, dimsOf, ffnKinds, layerPrefix, withFfnOptions, type ModelConfig, type Params, type Trainer } from '@efficientscale/core';
import { dropGuide, guideAlpha } from './guide.js';
import { layerRanks, type LowRankOptions } from './options.js';
import { sharedVName, uName, vName } from './ffn.js';

/**
 * The dense weights W = U·V of every lowrank layer (self-guided training starts with W₀ = U₀V₀, so the
 * guide and the factors begin as the same function).
 */
export function guideWeightsFromFactors(config: ModelConfig, params: Params): Params {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const out: Params = {};
  for (let i = 0; i < d.layers; i++) {
    if (kinds[i] !== 'lowrank') continue;
    const p = layerPrefix(i);
    const shared = layerRanks(config, d, i).shared;
    for (const proj of ['gate_proj', 'up_proj', 'down_proj']) {
      const v = shared && proj !== 'down_proj' ? sharedVName : vName(proj);
      out[`${p}mlp.${proj}.weight`] = tf.matMul(params[p + uName(proj)] as tf.Tensor2D, params[p + v] as tf.Tensor2D);
    }
  }
  return out;
}

function withOptions(config: ModelConfig, extra: Partial<LowRankOptions>): ModelConfig {
  return withFfnOptions(config, 'lowrank', { ...(config.efficientscale?.ffn_options?.lowrank as LowRankOptions), ...extra });
}

/** Replaces the trainer's model by its low-rank part, keeping the factors' Adam moments. */
function dropGuideFromTrainer(trainer: Trainer): void {
  const { config, params } = dropGuide(trainer.config, trainer.params);
  const moments: Record<string, tf.Tensor> = {};
  for (const [key, t] of Object.entries(trainer.optimizer.stateTensors())) {
    if (params[key.slice(2)] !== undefined) moments[key] = tf.clone(t); // keys are m.<name> / v.<name>
  }
  trainer.replaceModel(config, params, moments);
  tf.dispose([...Object.values(params), ...Object.values(moments)]);
}

/**
 * Self-guided training inside core's run loop: pass as `betweenSteps` to startRun and continueRun. The
 * schedule lives in the config, so a resumed run continues it: `guide_fraction` of the run's steps becomes
 * `guide_steps` G on the first call, when W is also set to U·V. Step k (1-based) runs at α = guideAlpha(k, G),
 * so step G is the low-rank branch alone and dropping W after it keeps the function; the checkpoints from
 * then on are plain low-rank ones. With `guide_stochastic` each step runs one branch instead: α = 1 with
 * probability guideAlpha(k, G), else 0. Configs without `guide_fraction` / `guide_steps` are left alone.
 */
export function selfGuidedBetweenSteps(trainer: Trainer, spec: { totalSteps: number }): void {
  const o = trainer.config.efficientscale?.ffn_options?.lowrank as LowRankOptions | undefined;
  if (!o?.self_guided || (o.guide_steps === undefined && o.guide_fraction === undefined)) return;
  const steps = o.guide_steps ?? Math.max(1, Math.round(o.guide_fraction! * spec.totalSteps));
  const done = trainer.state.step;
  if (done === 0) {
    const weights = guideWeightsFromFactors(trainer.config, trainer.params);
    for (const [name, w] of Object.entries(weights)) (trainer.params[name] as tf.Variable).assign(w);
    tf.dispose(Object.values(weights));
  }
  if (done >= steps) return dropGuideFromTrainer(trainer);
  const alpha = guideAlpha(done + 1, steps);
  const drawn = o.guide_stochastic ? (unitHash(done + 1) < alpha ? 1 : 0) : alpha;
  trainer.config = withOptions(trainer.config, { guide_steps: steps, guide_alpha: drawn });
}

/** A uniform number in [0, 1) from an integer (mulberry32's mix): the stochastic variant's draw for a step. */
export function unitHash(n: number): number {
  let t = (n * 0x9e3779b9 + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
