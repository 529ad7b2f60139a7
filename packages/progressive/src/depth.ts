import { countParams, dimsOf, layerPrefix, mismatch, type ModelConfig, type Params } from '@efficientscale/core';
import { ATTENTION, FFN, LAYER_WEIGHTS, requireDense, sizeOf } from './dims.js';
import { applyRecipes, fresh, newWeight, sameAs, type OptimizerState, type Recipe, type Recipes } from './remap.js';
import { maxLogitGap } from './probe.js';
import { Rng } from './rng.js';

export const depthMethods = ['zero', 'random', 'copy', 'interpolate', 'stack'] as const;
export type DepthMethod = (typeof depthMethods)[number];

export interface DepthOptions {
  layers: number;
  method: DepthMethod;
  /** copy / interpolate / stack: zero the new layers' o_proj and down_proj so the model is unchanged (default true). */
  exact?: boolean;
  seed?: number;
  initStd?: number;
  /** AdamW moments (`m.<name>`, `v.<name>`) to carry over. */
  optimizer?: OptimizerState;
  /** Measure the max logit gap on a probe batch (default true). */
  probe?: boolean;
}

export interface DepthReport {
  kind: 'depth';
  method: DepthMethod;
  exact: boolean;
  layersBefore: number;
  layersAfter: number;
  /** Indices (in the grown model) of the inserted layers, and the old layer each one came from (-1: fresh). */
  newLayers: Array<{ index: number; source: number }>;
  paramsBefore: number;
  paramsAfter: number;
  note: string;
  maxLogitGap?: number;
}

export interface GrowResult<R> {
  config: ModelConfig;
  params: Params;
  optimizer?: OptimizerState;
  report: R;
}

/** A grown layer: an old one moved, or a new one built from sources (none = fresh). */
type Slot = { old: number } | { sources: number[] };

/** `count` new layers spread evenly over `layers` old ones: the old layer each is inserted after. */
export function spreadSources(layers: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => Math.floor(((2 * k + 1) * layers) / (2 * count)));
}

function layout(method: DepthMethod, layers: number, target: number): Slot[] {
  const added = target - layers;
  const old = (i: number): Slot => ({ old: i });
  const all = Array.from({ length: layers }, (_, i) => old(i));
  if (method === 'zero' || method === 'random') return [...all, ...Array.from({ length: added }, () => ({ sources: [] }))];
  if (method === 'stack') return [...all, ...Array.from({ length: added }, (_, k) => ({ sources: [k % layers] }))];
  const after = spreadSources(layers, added);
  const slots: Slot[] = [];
  for (let i = 0; i < layers; i++) {
    slots.push(old(i));
    for (const s of after.filter((x) => x === i)) {
      slots.push({ sources: method === 'interpolate' && s + 1 < layers ? [s, s + 1] : [s] });
    }
  }
  return slots;
}

const NOTES: Record<DepthMethod, string> = {
  zero: 'new blocks are freshly initialised with o_proj and down_proj zero: each adds nothing to the residual stream, so the grown model computes exactly the same function',
  random: 'new blocks are freshly initialised (output projections not zero): not function-preserving',
  copy: 'each new layer is a copy of the layer it follows',
  interpolate: 'each new layer is the mean of the layer it follows and the next one',
  stack: 'the whole stack is repeated (G_stack) up to the target depth',
};

/** Grows a model to `options.layers` decoder layers. Pure: inputs are not changed or disposed. */
export function growDepth(config: ModelConfig, params: Params, options: DepthOptions): GrowResult<DepthReport> {
  const { layers: target, method } = options;
  if (!(depthMethods as readonly string[]).includes(method)) throw mismatch('depth method', depthMethods.join(' | '), JSON.stringify(method));
  const d = dimsOf(config);
  requireDense(config);
  if (!Number.isInteger(target) || target < d.layers) throw mismatch('target layers', `an integer >= the current depth (${d.layers})`, String(target));
  if (d.layers === 0 && method !== 'zero' && method !== 'random') {
    throw mismatch(`depth method for a 0-layer model`, '"zero" or "random" (there is no layer to copy)', JSON.stringify(method));
  }
  const copying = method === 'copy' || method === 'interpolate' || method === 'stack';
  const exact = method === 'zero' || (copying && options.exact !== false);
  const rng = new Rng(options.seed ?? 0);
  const std = options.initStd ?? 0.02;
  const newConfig: ModelConfig = { ...config, num_hidden_layers: target };
  if (config.efficientscale?.ffn_kinds) newConfig.efficientscale = { ...config.efficientscale, ffn_kinds: Array.from({ length: target }, () => 'dense') };
  const shapes = layerShapes(newConfig);
  const recipes: Recipes = {};
  for (const name of ['model.embed_tokens.weight', 'model.norm.weight', 'lm_head.weight']) {
    if (params[name]) recipes[name] = sameAs(name, params[name].shape);
  }
  const newLayers: DepthReport['newLayers'] = [];
  layout(method, d.layers, target).forEach((slot, i) => {
    const to = layerPrefix(i);
    if ('old' in slot) {
      for (const w of LAYER_WEIGHTS) recipes[to + w] = sameAs(layerPrefix(slot.old) + w, shapes[w]);
      return;
    }
    newLayers.push({ index: i, source: slot.sources.length ? slot.sources[0] : -1 });
    for (const w of LAYER_WEIGHTS) {
      const isOutput = w === 'self_attn.o_proj.weight' || w === 'mlp.down_proj.weight';
      let r: Recipe;
      if (slot.sources.length === 0) {
        const isNorm = shapes[w].length === 1;
        const outStd = method === 'zero' ? 0 : std / Math.sqrt(2 * target);
        r = newWeight(shapes[w], () => (isNorm ? 1 : isOutput ? (outStd ? rng.normal(outStd) : 0) : rng.normal(std)));
      } else if (isOutput && exact) {
        r = { shape: shapes[w], terms: [{ from: layerPrefix(slot.sources[0]) + w, rows: fresh(shapes[w][0]) }], fill: () => 0 };
      } else {
        const share = 1 / slot.sources.length;
        r = { shape: shapes[w], terms: slot.sources.flatMap((s) => sameAs(layerPrefix(s) + w, shapes[w], share).terms) };
      }
      recipes[to + w] = r;
    }
  });
  const grown = applyRecipes(recipes, params, options.optimizer);
  const report: DepthReport = {
    kind: 'depth',
    method,
    exact,
    layersBefore: d.layers,
    layersAfter: target,
    newLayers,
    paramsBefore: sizeOf(params),
    paramsAfter: countParams(newConfig),
    note: NOTES[method] + (copying ? (exact ? '; its o_proj and down_proj are zero, so it is the identity on the residual stream and the grown model is exact' : '; output projections kept (exact: false), so the function changes') : ''),
  };
  if (options.probe !== false) report.maxLogitGap = maxLogitGap({ config, params }, { config: newConfig, params: grown.params });
  return { config: newConfig, ...grown, report };
}

function layerShapes(config: ModelConfig): Record<string, number[]> {
  if (config.num_hidden_layers === 0) return {};
  const d = dimsOf(config);
  const attn = d.heads * d.headDim;
  const kv = d.kvHeads * d.headDim;
  const shapes: Record<string, number[]> = {
    [ATTENTION[0]]: [d.hidden],
    [ATTENTION[1]]: [attn, d.hidden],
    [ATTENTION[2]]: [kv, d.hidden],
    [ATTENTION[3]]: [kv, d.hidden],
    [ATTENTION[4]]: [d.hidden, attn],
    [ATTENTION[5]]: [d.hidden],
    [FFN[0]]: [d.ffn, d.hidden],
    [FFN[1]]: [d.ffn, d.hidden],
    [FFN[2]]: [d.hidden, d.ffn],
  };
  return shapes;
}
