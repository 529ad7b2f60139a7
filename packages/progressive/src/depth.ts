import { transformInMemory, withFfnKinds, countParams, dimsOf, layerPrefix, mismatch, paramShapes, residualWriters, weightTable, type ModelConfig, type Params, type TransformPlan } from '@efficientscale/core';
import { requireDense } from './dims.js';
import { fresh, newWeight, recipeOutputs, sameAs, type OptimizerState, type Recipe, type Recipes } from './remap.js';

export const depthMethods = ['zero', 'random', 'copy', 'interpolate', 'stack'] as const;
export type DepthMethod = (typeof depthMethods)[number];

export interface DepthPlanOptions {
  layers: number;
  method: DepthMethod;
  /** copy / interpolate / stack: zero the new layers' o_proj and down_proj so the model is unchanged (default true). */
  exact?: boolean;
  seed?: number;
  initStd?: number;
}

export interface DepthOptions extends DepthPlanOptions {
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

/** The plan that grows a model to `options.layers` decoder layers (moments follow the weights). */
export function planDepth(config: ModelConfig, options: DepthPlanOptions): TransformPlan<DepthReport> {
  const { layers: target, method } = options;
  if (!(depthMethods as readonly string[]).includes(method)) throw mismatch('depth method', depthMethods.join(' | '), JSON.stringify(method));
  const d = dimsOf(config);
  requireDense(config);
  if (!Number.isInteger(target) || target < d.layers) throw mismatch('layers', `at least the current ${d.layers} layers (growth never removes layers)`, String(target));
  if (d.layers === 0 && method !== 'zero' && method !== 'random') {
    throw mismatch(`depth method for a 0-layer model`, '"zero" or "random" (there is no layer to copy)', JSON.stringify(method));
  }
  const copying = method === 'copy' || method === 'interpolate' || method === 'stack';
  const exact = method === 'zero' || (copying && options.exact !== false);
  const std = options.initStd ?? 0.02;
  const newConfig = withFfnKinds(config, Array.from({ length: target }, () => 'dense'));
  // One layer's weights (suffix → shape) and which of them write the residual stream, from the weight table.
  const layerRows = target > 0 ? weightTable(newConfig).filter((w) => w.layer === 0) : [];
  const suffix = (name: string) => name.slice(layerPrefix(0).length);
  const outputsOfLayer = new Set(target > 0 ? residualWriters(newConfig, 0).map(suffix) : []);
  const recipes: Recipes = {};
  for (const w of weightTable(config)) if (w.layer === undefined) recipes[w.name] = sameAs(w.name, w.shape);
  const newLayers: DepthReport['newLayers'] = [];
  layout(method, d.layers, target).forEach((slot, i) => {
    const to = layerPrefix(i);
    if ('old' in slot) {
      for (const w of layerRows) recipes[to + suffix(w.name)] = sameAs(layerPrefix(slot.old) + suffix(w.name), w.shape);
      return;
    }
    newLayers.push({ index: i, source: slot.sources.length ? slot.sources[0] : -1 });
    for (const row of layerRows) {
      const w = suffix(row.name);
      const shape = row.shape;
      const isOutput = outputsOfLayer.has(w);
      let r: Recipe;
      if (slot.sources.length === 0) {
        const isNorm = row.role === 'norm';
        const outStd = method === 'zero' ? 0 : std / Math.sqrt(2 * target);
        r = newWeight(shape, (_i, rng) => (isNorm ? 1 : isOutput ? outStd * rng.normal() : std * rng.normal()));
      } else if (isOutput && exact) {
        r = { shape, terms: [{ from: layerPrefix(slot.sources[0]) + w, rows: fresh(shape[0]) }], fill: 0 };
      } else {
        const share = 1 / slot.sources.length;
        r = { shape, terms: slot.sources.flatMap((s) => sameAs(layerPrefix(s) + w, shape, share).terms) };
      }
      recipes[to + w] = r;
    }
  });
  const report: DepthReport = {
    kind: 'depth',
    method,
    exact,
    layersBefore: d.layers,
    layersAfter: target,
    newLayers,
    paramsBefore: countParams(config),
    paramsAfter: countParams(newConfig),
    note: NOTES[method] + (copying ? (exact ? '; its o_proj and down_proj are zero, so it is the identity on the residual stream and the grown model is exact' : '; output projections kept (exact: false), so the function changes') : ''),
  };
  return { config: newConfig, outputs: recipeOutputs(recipes, newConfig, paramShapes(config), options.seed ?? 0), report };
}

/** Grows a model to `options.layers` decoder layers in memory. Pure: inputs are not changed or disposed. */
export function growDepth(config: ModelConfig, params: Params, options: DepthOptions): GrowResult<DepthReport> {
  const r = transformInMemory(planDepth(config, options), params, { sourceConfig: config, optimizer: options.optimizer, probe: options.probe });
  return { config: r.config, params: r.params, optimizer: r.optimizer, report: { ...r.report, ...(r.probe ? { maxLogitGap: r.probe.maxAbsLogitDiff } : {}) } };
}
