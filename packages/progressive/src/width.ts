import { transformInMemory, countParams, createRng, dimsOf, layerPrefix, mismatch, paramShapes, type ModelConfig, type Params, type TransformPlan } from '@efficientscale/core';
import { requireDense } from './dims.js';
import type { GrowResult } from './depth.js';
import { identity, recipeOutputs, type Axis, type OptimizerState, type Recipe, type Recipes, type Term } from './remap.js';
import { copyAxis, ffnMap, headMaps, hiddenMap, perHead, splitAxis, type UnitMap } from './width-maps.js';

export const widthMethods = ['fpi', 'aki', 'lossless'] as const;
export type WidthMethod = (typeof widthMethods)[number];

export interface WidthPlanOptions {
  hidden?: number;
  /** Query heads; default: hidden / head_dim when that is a multiple of the current heads, else unchanged. */
  heads?: number;
  /** KV heads; default: scaled with heads when heads grow by a whole factor, else unchanged. */
  kvHeads?: number;
  ffn?: number;
  method: WidthMethod;
  seed?: number;
  /** lossless: std of the random incoming weights of the zero-padded hidden units (default 0.02). */
  noiseStd?: number;
}

export interface WidthOptions extends WidthPlanOptions {
  optimizer?: OptimizerState;
  probe?: boolean;
}

interface Shape {
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
}

export interface WidthReport {
  kind: 'width';
  method: WidthMethod;
  exact: boolean;
  before: Shape;
  after: Shape;
  /** How the residual stream grew: each unit copied `copies` times, `padded` zero units, eps scaled by `epsScale`. */
  hidden: { copies: number; padded: number; epsScale: number };
  paramsBefore: number;
  paramsAfter: number;
  note: string;
  maxLogitGap?: number;
}

const NOTES: Record<WidthMethod, string> = {
  fpi: 'function-preserving init (Net2Net / bert2BERT FPI): new units copy old ones, their outgoing weights are split evenly between the copies; exact',
  aki: 'advanced knowledge init (bert2BERT AKI): new FFN units and heads take their weights from the next layer (the last layer from itself); not exact',
  lossless: 'LEMON-style lossless growth: copies split their outgoing weights unevenly (random shares summing to one), zero-padded hidden units get random incoming weights; exact and symmetry-breaking',
};
const RMS_NOTE =
  'RMSNorm: every hidden unit is copied the same number of times and the rest of the new units are zero, so the mean square scales by a known factor α = copies·old/new; the norm weights are multiplied by √α and rms_norm_eps by α, which keeps every normalised activation exactly as before';

function grownShape(d: Shape & { headDim: number }, o: WidthPlanOptions): Shape {
  const hidden = o.hidden ?? d.hidden;
  const byHeadDim = hidden / d.headDim;
  const heads = o.heads ?? (hidden !== d.hidden && Number.isInteger(byHeadDim) && byHeadDim % d.heads === 0 ? byHeadDim : d.heads);
  const kvHeads = o.kvHeads ?? (heads % d.heads === 0 ? (d.kvHeads * heads) / d.heads : d.kvHeads);
  const ffn = o.ffn ?? d.ffn;
  const after = { hidden, heads, kvHeads, ffn };
  for (const key of ['hidden', 'heads', 'kvHeads', 'ffn'] as const) {
    const v = after[key];
    if (!Number.isInteger(v) || v < d[key]) throw mismatch(`new ${key}`, `an integer >= the current ${key} (${d[key]}); growth never shrinks`, String(v));
  }
  if (hidden % heads !== 0) throw mismatch('new heads', `a divisor of the hidden size (${hidden})`, String(heads));
  if (heads % kvHeads !== 0) throw mismatch('new kvHeads', `a divisor of the number of heads (${heads})`, String(kvHeads));
  return after;
}

/** The plan that grows hidden size, heads, KV heads and FFN width (moments follow the weights). */
export function planWidth(config: ModelConfig, options: WidthPlanOptions): TransformPlan<WidthReport> {
  const { method } = options;
  if (!(widthMethods as readonly string[]).includes(method)) throw mismatch('width method', widthMethods.join(' | '), JSON.stringify(method));
  const d = dimsOf(config);
  requireDense(config);
  const after = grownShape(d, options);
  const heads = headMaps(d.heads, d.kvHeads, after.heads, after.kvHeads);
  const hid = hiddenMap(d.hidden, after.hidden);
  const seed = options.seed ?? 0;
  // lossless: the uneven shares are drawn here, once, in plan order; the new units' weights per output.
  const uneven = method === 'lossless' ? createRng(seed, 'lossless-shares') : undefined;
  const noise = options.noiseStd ?? 0.02;
  const consumerFill: Recipe['fill'] = method === 'lossless' ? (_i, rng) => noise * rng.normal() : 0;
  const hd = d.headDim;
  const H = after.hidden;

  const producer = copyAxis(hid);
  const consumer = () => splitAxis(hid, uneven);
  const norm = (): Recipe['terms'][number]['rows'] => copyAxis(hid, () => true, Math.sqrt(hid.alpha));
  const recipes: Recipes = {};
  recipes['model.embed_tokens.weight'] = { shape: [d.vocab, H], terms: [{ from: 'model.embed_tokens.weight', rows: identity(d.vocab), cols: producer }], fill: 0 };
  // Tied head: the embedding's columns are copies, so the final norm carries the split instead.
  const finalNorm = d.tied ? splitAxis(hid, uneven, () => true, Math.sqrt(hid.alpha)) : norm();
  recipes['model.norm.weight'] = { shape: [H], terms: [{ from: 'model.norm.weight', rows: finalNorm }], fill: 1 };
  if (!d.tied) recipes['lm_head.weight'] = { shape: [d.vocab, H], terms: [{ from: 'lm_head.weight', rows: identity(d.vocab), cols: consumer() }], fill: consumerFill };

  const q = perHead(heads.q, hd);
  const kv = perHead(heads.kv, hd);
  const ffn = ffnMap(d.ffn, after.ffn);
  const first = (c: number) => c === 0;
  const later = (c: number) => c > 0;
  for (let l = 0; l < d.layers; l++) {
    const cur = layerPrefix(l);
    const next = layerPrefix(Math.min(l + 1, d.layers - 1));
    // Units grown along the rows (incoming weights): aki takes the new copies from the next layer.
    const rowsGrown = (w: string, map: UnitMap): Term[] =>
      method === 'aki'
        ? [
            { from: cur + w, rows: copyAxis(map, first), cols: consumer() },
            { from: next + w, rows: copyAxis(map, later), cols: consumer() },
          ]
        : [{ from: cur + w, rows: copyAxis(map), cols: consumer() }];
    // Units grown along the columns (outgoing weights), split between the copies.
    const colsGrown = (w: string, map: UnitMap): Term[] => {
      const split = splitAxis(map, uneven);
      if (method !== 'aki') return [{ from: cur + w, rows: producer, cols: split }];
      const keepOnly = (keep: (c: number) => boolean): Axis => split.map((s, j) => (keep(map.copy[j]) ? s : { src: -1, scale: 0 }));
      return [
        { from: cur + w, rows: producer, cols: keepOnly(first) },
        { from: next + w, rows: producer, cols: keepOnly(later) },
      ];
    };
    const set = (w: string, shape: number[], terms: Term[], fill: Recipe['fill']) => {
      recipes[cur + w] = { shape, terms, fill };
    };
    set('input_layernorm.weight', [H], [{ from: cur + 'input_layernorm.weight', rows: norm() }], 1);
    set('post_attention_layernorm.weight', [H], [{ from: cur + 'post_attention_layernorm.weight', rows: norm() }], 1);
    set('self_attn.q_proj.weight', [after.heads * hd, H], rowsGrown('self_attn.q_proj.weight', q), consumerFill);
    set('self_attn.k_proj.weight', [after.kvHeads * hd, H], rowsGrown('self_attn.k_proj.weight', kv), consumerFill);
    set('self_attn.v_proj.weight', [after.kvHeads * hd, H], rowsGrown('self_attn.v_proj.weight', kv), consumerFill);
    set('self_attn.o_proj.weight', [H, after.heads * hd], colsGrown('self_attn.o_proj.weight', q), 0);
    set('mlp.gate_proj.weight', [after.ffn, H], rowsGrown('mlp.gate_proj.weight', ffn), consumerFill);
    set('mlp.up_proj.weight', [after.ffn, H], rowsGrown('mlp.up_proj.weight', ffn), consumerFill);
    set('mlp.down_proj.weight', [H, after.ffn], colsGrown('mlp.down_proj.weight', ffn), 0);
  }

  const eps = d.eps * hid.alpha;
  const newConfig: ModelConfig = {
    ...config,
    hidden_size: H,
    intermediate_size: after.ffn,
    num_attention_heads: after.heads,
    num_key_value_heads: after.kvHeads,
    head_dim: hd,
    rms_norm_eps: hid.alpha === 1 ? d.eps : eps,
  };
  const before = { hidden: d.hidden, heads: d.heads, kvHeads: d.kvHeads, ffn: d.ffn };
  const report: WidthReport = {
    kind: 'width',
    method,
    exact: method !== 'aki',
    before,
    after,
    hidden: { copies: hid.copies, padded: hid.padded, epsScale: hid.alpha },
    paramsBefore: countParams(config),
    paramsAfter: countParams(newConfig),
    note: `${NOTES[method]}. ${RMS_NOTE}`,
  };
  return { config: newConfig, outputs: recipeOutputs(recipes, newConfig, paramShapes(config), seed), report };
}

/** Grows hidden size, heads, KV heads and FFN width in memory. Pure: inputs are not changed or disposed. */
export function growWidth(config: ModelConfig, params: Params, options: WidthOptions): GrowResult<WidthReport> {
  const r = transformInMemory(planWidth(config, options), params, { sourceConfig: config, optimizer: options.optimizer, probe: options.probe });
  return { config: r.config, params: r.params, optimizer: r.optimizer, report: { ...r.report, ...(r.probe ? { maxLogitGap: r.probe.maxAbsLogitDiff } : {}) } };
}
