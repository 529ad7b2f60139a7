import { tf, dimsOf, ffnKinds, layerPrefix, type ModelConfig, type Params } from '@efficientscale/core';
import { layerRanks } from './options.js';
import { sharedVName, uName, vName } from './ffn.js';

export interface ToDenseReport {
  /** Layers whose FFN was multiplied out. */
  layers: number[];
  paramsBefore: number;
  paramsAfter: number;
}

/**
 * `lowrank` layers → dense by multiplying the factors out (W = U·V): the result is a plain Llama
 * checkpoint that any Hugging Face loader reads (the efficientscale key is dropped once nothing needs it).
 */
export function toDense(config: ModelConfig, params: Params): { config: ModelConfig; params: Params; report: ToDenseReport } {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const out: Params = {};
  const factorNames = new Set<string>();
  const layers: number[] = [];
  for (let i = 0; i < d.layers; i++) {
    if (kinds[i] !== 'lowrank') continue;
    layers.push(i);
    const p = layerPrefix(i);
    const shared = layerRanks(config, d, i).shared;
    for (const proj of ['gate_proj', 'up_proj', 'down_proj'] as const) {
      const v = shared && proj !== 'down_proj' ? sharedVName : vName(proj);
      const need = (n: string) => {
        factorNames.add(p + n);
        const t = params[p + n];
        if (!t) throw new Error(`toDense: missing weight ${p + n}`);
        return t as tf.Tensor2D;
      };
      out[`${p}mlp.${proj}.weight`] = tf.matMul(need(uName(proj)), need(v));
    }
  }
  for (const [name, t] of Object.entries(params)) if (!factorNames.has(name)) out[name] = tf.clone(t);
  const newKinds = kinds.map((k) => (k === 'lowrank' ? 'dense' : k));
  const es = { ...config.efficientscale };
  const options = { ...es.ffn_options };
  delete options.lowrank;
  if (Object.keys(options).length > 0) es.ffn_options = options;
  else delete es.ffn_options;
  if (newKinds.every((k) => k === 'dense')) delete es.ffn_kinds;
  else es.ffn_kinds = newKinds;
  const newConfig: ModelConfig = { ...config };
  if (Object.keys(es).length > 0) newConfig.efficientscale = es;
  else delete newConfig.efficientscale;
  const count = (ps: Params) => Object.values(ps).reduce((n, t) => n + t.size, 0);
  return { config: newConfig, params: out, report: { layers, paramsBefore: count(params), paramsAfter: count(out) } };
}
