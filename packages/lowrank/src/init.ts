import { tf, dimsOf, ffnKinds, initParams, layerPrefix, type ModelConfig, type Params } from '@efficientscale/core';
import { layerRanks } from './options.js';
import { randomizedSvd, balancedFactors, disposeSvd } from './svd.js';
import { sharedVName, uName, vName } from './ffn.js';

/**
 * Fresh weights with spectral init of the low-rank factors: each U·V is the truncated SVD (balanced split
 * U√Σ, √ΣVᵀ) of a dense normal draw with the dense init's std. Other weights are core's initParams.
 */
export function spectralInitParams(config: ModelConfig, seed: number, initStd = 0.02): Params {
  const d = dimsOf(config);
  const params = initParams(config, seed, initStd);
  const kinds = ffnKinds(config);
  const residual = initStd / Math.sqrt(2 * d.layers);
  const replace = (uNames: string[], vNameFull: string, shape: [number, number], rank: number, std: number, s: number) => {
    const draw = tf.randomNormal(shape, 0, std, 'float32', s) as tf.Tensor2D;
    const svd = randomizedSvd(draw, rank, { seed: s });
    const { u, v } = balancedFactors(svd);
    tf.dispose([draw]);
    disposeSvd(svd);
    const parts = uNames.length > 1 ? tf.split(u, uNames.length, 0) : [u];
    uNames.forEach((name, k) => {
      params[name].dispose();
      params[name] = parts[k];
    });
    if (parts[0] !== u) u.dispose();
    params[vNameFull].dispose();
    params[vNameFull] = v;
  };
  for (let i = 0; i < d.layers; i++) {
    if (kinds[i] !== 'lowrank') continue;
    const p = layerPrefix(i);
    const r = layerRanks(config, d, i);
    const s = seed * 7919 + i * 31;
    if (r.shared) replace([p + uName('gate_proj'), p + uName('up_proj')], p + sharedVName, [2 * d.ffn, d.hidden], r.gate_proj, initStd, s);
    else {
      replace([p + uName('gate_proj')], p + vName('gate_proj'), [d.ffn, d.hidden], r.gate_proj, initStd, s + 1);
      replace([p + uName('up_proj')], p + vName('up_proj'), [d.ffn, d.hidden], r.up_proj, initStd, s + 2);
    }
    replace([p + uName('down_proj')], p + vName('down_proj'), [d.hidden, d.ffn], r.down_proj, residual, s + 3);
  }
  return params;
}
