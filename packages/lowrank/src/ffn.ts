import { tf, type FfnKind } from '@efficientscale/core';
import { swiglu } from './swiglu.js';
import { layerRanks } from './options.js';

/** Weight names of the factors: W [out, in] ≈ U [out, r] · V [r, in]. */
export const uName = (w: string) => `mlp.${w}.weight_u`;
export const vName = (w: string) => `mlp.${w}.weight_v`;
/** The V shared by gate_proj and up_proj when `share_gate_up_v` is on. */
export const sharedVName = 'mlp.gate_up_proj.weight_v';

const linear = (x: tf.Tensor2D, w: tf.Tensor) => tf.matMul(x, w as tf.Tensor2D, false, true) as tf.Tensor2D;

/** SwiGLU FFN whose three projections are U·V products: down(silu(gate(x)) * up(x)). */
export const lowrankFfn: FfnKind = {
  kind: 'lowrank',
  paramShapes(config, d, layer) {
    const r = layerRanks(config, d, layer);
    const shapes: Record<string, number[]> = {
      [uName('gate_proj')]: [d.ffn, r.gate_proj],
      [uName('up_proj')]: [d.ffn, r.up_proj],
      [uName('down_proj')]: [d.hidden, r.down_proj],
      [vName('down_proj')]: [r.down_proj, d.ffn],
    };
    if (r.shared) shapes[sharedVName] = [r.gate_proj, d.hidden];
    else {
      shapes[vName('gate_proj')] = [r.gate_proj, d.hidden];
      shapes[vName('up_proj')] = [r.up_proj, d.hidden];
    }
    return shapes;
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
  forward(ctx, x) {
    const shared = ctx.config.efficientscale?.ffn_options?.lowrank?.share_gate_up_v === true;
    const p = ctx.param;
    let gate: tf.Tensor2D;
    let up: tf.Tensor2D;
    if (shared) {
      const xv = linear(x, p(sharedVName));
      gate = linear(xv, p(uName('gate_proj')));
      up = linear(xv, p(uName('up_proj')));
    } else {
      gate = linear(linear(x, p(vName('gate_proj'))), p(uName('gate_proj')));
      up = linear(linear(x, p(vName('up_proj'))), p(uName('up_proj')));
    }
    const h = swiglu(gate, up);
    return { y: linear(linear(h, p(vName('down_proj'))), p(uName('down_proj'))) };
  },
  activeParamsPerToken(config, d, layer) {
    const r = layerRanks(config, d, layer);
    const gateUp = r.shared ? r.gate_proj * (2 * d.ffn + d.hidden) : (r.gate_proj + r.up_proj) * (d.ffn + d.hidden);
    return gateUp + r.down_proj * (d.hidden + d.ffn);
  },
};
