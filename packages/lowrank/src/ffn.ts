import { tf, denseFfn, type Dims, type FfnKind, type ModelConfig, type WeightSpec } from '@efficientscale/core';
import { swiglu } from './swiglu.js';
import { mismatch } from '@efficientscale/core';
import { layerRanks, lowRankOptions, type LowRankOptions } from './options.js';

/** Weight names of the factors: W [out, in] ≈ U [out, r] · V [r, in]. */
export const uName = (w: string) => `mlp.${w}.weight_u`;
export const vName = (w: string) => `mlp.${w}.weight_v`;
/** The V shared by gate_proj and up_proj when `share_gate_up_v` is on. */
export const sharedVName = 'mlp.gate_up_proj.weight_v';

const linear = (x: tf.Tensor2D, w: tf.Tensor) => tf.matMul(x, w as tf.Tensor2D, false, true) as tf.Tensor2D;

/** SwiGLU FFN whose three projections are U·V products: down(silu(gate(x)) * up(x)). */
export const lowrankFfn: FfnKind = {
  kind: 'lowrank',
  weights(config, d, layer) {
    const r = layerRanks(config, d, layer);
    const factor = (shape: number[], projection: 'input-projection' | 'output-projection', side: 'u' | 'v'): WeightSpec => ({ shape, role: 'factor', factorOf: { projection, side } });
    const rows: Record<string, WeightSpec> = {
      [uName('gate_proj')]: factor([d.ffn, r.gate_proj], 'input-projection', 'u'),
      [uName('up_proj')]: factor([d.ffn, r.up_proj], 'input-projection', 'u'),
      [uName('down_proj')]: factor([d.hidden, r.down_proj], 'output-projection', 'u'),
      [vName('down_proj')]: factor([r.down_proj, d.ffn], 'output-projection', 'v'),
    };
    if (r.shared) rows[sharedVName] = factor([r.gate_proj, d.hidden], 'input-projection', 'v');
    else {
      rows[vName('gate_proj')] = factor([r.gate_proj, d.hidden], 'input-projection', 'v');
      rows[vName('up_proj')] = factor([r.up_proj, d.hidden], 'input-projection', 'v');
    }
    if (lowRankOptions(config).self_guided) Object.assign(rows, denseFfn.weights(config, d, layer));
    return rows;
  },
  initStd(config, d, layer, initStd) {
    // Independent U, V entries of std a give U·V entries of std a²·√r: pick a so that the product has
    // the dense init's std (initStd, or GPT-2's residual scaling for down_proj, as core does for dense).
    const r = layerRanks(config, d, layer);
    const factorStd = (target: number, rank: number) => Math.sqrt(target) / rank ** 0.25;
    const residual = initStd / Math.sqrt(2 * d.layers);
    const stds: Record<string, number> = {
      [uName('gate_proj')]: factorStd(initStd, r.gate_proj),
      [uName('up_proj')]: factorStd(initStd, r.up_proj),
      [uName('down_proj')]: factorStd(residual, r.down_proj),
      [vName('down_proj')]: factorStd(residual, r.down_proj),
    };
    if (r.shared) stds[sharedVName] = factorStd(initStd, r.gate_proj);
    else {
      stds[vName('gate_proj')] = factorStd(initStd, r.gate_proj);
      stds[vName('up_proj')] = factorStd(initStd, r.up_proj);
    }
    return stds;
  },
  prepare: (config, d, layer) => prepared(config, d, layer),
  forward(ctx, x) {
    const { o, alpha } = (ctx.settings as Prepared | undefined) ?? prepared(ctx.config, ctx.dims, ctx.layer);
    const p = ctx.param;
    // α·W·x + (1−α)·U·(V·x); only the dense products run at α = 1 and only the low-rank ones at α = 0
    // (the stochastic self-guided variant draws α ∈ {0, 1} per step).
    const dense = (proj: string, input: tf.Tensor2D) => linear(input, p(`mlp.${proj}.weight`));
    const mix = (proj: string, lowRank: () => tf.Tensor2D, input: tf.Tensor2D) =>
      alpha === 0 ? lowRank() : alpha === 1 ? dense(proj, input) : (tf.add(tf.mul(dense(proj, input), alpha), tf.mul(lowRank(), 1 - alpha)) as tf.Tensor2D);
    let xv: tf.Tensor2D | undefined;
    const inFactor = (proj: 'gate_proj' | 'up_proj') =>
      o.share_gate_up_v === true ? (xv ??= linear(x, p(sharedVName))) : linear(x, p(vName(proj)));
    const gate = mix('gate_proj', () => linear(inFactor('gate_proj'), p(uName('gate_proj'))), x);
    const up = mix('up_proj', () => linear(inFactor('up_proj'), p(uName('up_proj'))), x);
    const h = swiglu(gate, up);
    return { y: mix('down_proj', () => linear(linear(h, p(vName('down_proj'))), p(uName('down_proj'))), h) };
  },
  activeParamsPerToken(config, d, layer) {
    const r = layerRanks(config, d, layer);
    const gateUp = r.shared ? r.gate_proj * (2 * d.ffn + d.hidden) : (r.gate_proj + r.up_proj) * (d.ffn + d.hidden);
    const guided = lowRankOptions(config).self_guided ? 3 * d.hidden * d.ffn : 0;
    return gateUp + r.down_proj * (d.hidden + d.ffn) + guided;
  },
};

interface Prepared {
  o: LowRankOptions;
  /** The dense branch's weight α (0: low-rank only). */
  alpha: number;
}

/** A layer's options and ranks, checked once per config. */
function prepared(config: ModelConfig, d: Dims, layer: number): Prepared {
  layerRanks(config, d, layer);
  const o = lowRankOptions(config);
  return { o, alpha: o.self_guided ? guideAlphaOf(o.guide_alpha) : 0 };
}

function guideAlphaOf(alpha: unknown): number {
  if (alpha === undefined) return 1;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw mismatch('lowrank "guide_alpha"', 'a number in [0, 1]', JSON.stringify(alpha));
  return alpha;
}
