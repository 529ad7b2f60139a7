import { countParams, dimsOf, ffnKinds, flopsPerToken, forward, layerPrefix, tf, type ModelConfig, type Params } from '@efficientscale/core';
import { expertWeight, routerWeight } from './moe-config.js';
import { checkOptions, type CheckedOptions, type UpcycleOptions } from './upcycle-options.js';
import { sliceFfn, type DenseFfnData, type ExpertData } from './expert-copies.js';
import { ffnInputs } from './capture.js';
import { kmeans } from './kmeans.js';
import { normal, stdOf, uniform } from './random.js';
import './register.js';

export interface UpcycleReport {
  layers: number[];
  experts: number;
  topK: number;
  granularity: number;
  expertIntermediateSize: number;
  routerInit: string;
  noise: number;
  dropFraction: number;
  /** True when the result is a plain MixtralForCausalLM config that transformers loads as it is. */
  mixtral: boolean;
  paramsBefore: number;
  paramsAfter: number;
  activeMatmulParamsBefore: number;
  activeMatmulParamsAfter: number;
  /** Max |logits after − logits before| on the calibration tokens (0 up to float error unless noise/drop). */
  maxAbsLogitDiff: number;
  optimizer: 'copied' | 'reset' | 'none';
}

export interface UpcycleResult {
  config: ModelConfig;
  params: Params;
  report: UpcycleReport;
  /** Present when options.optimizer was given: the state for the upcycled params. */
  optimizer?: Record<string, tf.Tensor>;
}

const denseNames = { gate: 'mlp.gate_proj.weight', up: 'mlp.up_proj.weight', down: 'mlp.down_proj.weight' } as const;

function denseData(get: (name: string) => tf.Tensor | undefined, prefix: string, ffn: number, hidden: number): DenseFfnData | undefined {
  const [gate, up, down] = [denseNames.gate, denseNames.up, denseNames.down].map((n) => get(prefix + n));
  if (!gate || !up || !down) return undefined;
  return { gate: gate.dataSync() as Float32Array, up: up.dataSync() as Float32Array, down: down.dataSync() as Float32Array, ffn, hidden };
}

function defaultCalibration(vocab: number, maxPositions: number, seed: number): tf.Tensor2D {
  const rand = uniform(seed + 17);
  const seq = Math.min(32, maxPositions);
  return tf.tensor2d(Array.from({ length: 4 * seq }, () => Math.floor(rand() * vocab)), [4, seq], 'int32');
}

/** Router rows, one per copy, repeated for its g slices so that a copy's slices are always picked together. */
function routerRows(o: CheckedOptions, hidden: number, states: Float32Array | undefined, rnd: () => number): Float32Array {
  let rows: Float32Array = new Float32Array(o.experts * hidden);
  if (o.routerInit === 'random') for (let i = 0; i < rows.length; i++) rows[i] = rnd() * o.routerStd;
  if (o.routerInit === 'kmeans') {
    rows = kmeans(states!, states!.length / hidden, hidden, o.experts, o.seed);
    // Unit-norm centroids: the router then scores a token by its cosine-like match to each cluster.
    for (let e = 0; e < o.experts; e++) {
      const row = rows.subarray(e * hidden, (e + 1) * hidden);
      const norm = Math.hypot(...row) || 1;
      for (let j = 0; j < hidden; j++) row[j] /= norm;
    }
  }
  const out = new Float32Array(o.experts * o.granularity * hidden);
  for (let c = 0; c < o.experts; c++) for (let s = 0; s < o.granularity; s++) out.set(rows.subarray(c * hidden, (c + 1) * hidden), (c * o.granularity + s) * hidden);
  return out;
}

/** Noise on every weight and drop-upcycling's re-initialised units, in place on one expert copy. */
function perturb(e: ExpertData, o: CheckedOptions, f: number, hidden: number, rnd: () => number, rand: () => number): void {
  if (o.noise > 0) for (const w of [e.w1, e.w2, e.w3]) for (let i = 0; i < w.length; i++) w[i] += o.noise * rnd();
  const drop = Math.round(o.dropFraction * f);
  if (drop === 0) return;
  const [s1, s2, s3] = [stdOf(e.w1), stdOf(e.w2), stdOf(e.w3)];
  const units = Array.from({ length: f }, (_, j) => j);
  for (let j = f - 1; j > 0; j--) {
    const r = Math.floor(rand() * (j + 1));
    [units[j], units[r]] = [units[r], units[j]];
  }
  for (const j of units.slice(0, drop)) {
    for (let h = 0; h < hidden; h++) {
      e.w1[j * hidden + h] = s1 * rnd();
      e.w3[j * hidden + h] = s3 * rnd();
      e.w2[h * f + j] = s2 * rnd();
    }
  }
}

/**
 * The config `upcycle` gives for these options (Mixtral's when every layer becomes MoE), without the
 * weights: for tools that write the weights themselves, such as a streaming upcycle.
 */
export function upcycledModelConfig(config: ModelConfig, options: UpcycleOptions): ModelConfig {
  const kinds = ffnKinds(config);
  return upcycledConfig(config, checkOptions(options, dimsOf(config).ffn, kinds), kinds).config;
}

function upcycledConfig(config: ModelConfig, o: CheckedOptions, kinds: string[]): { config: ModelConfig; mixtral: boolean } {
  const ffn = dimsOf(config).ffn;
  const moeLayers = new Set(o.layers);
  const newKinds = kinds.map((k, i) => (moeLayers.has(i) ? 'moe' : k));
  const out: ModelConfig = {
    ...structuredClone(config),
    num_local_experts: o.experts * o.granularity,
    num_experts_per_tok: o.topK * o.granularity,
    router_aux_loss_coef: (config.router_aux_loss_coef as number | undefined) ?? 0.001,
  };
  const extras = { ...(out.efficientscale ?? {}) };
  const mixtral = newKinds.every((k) => k === 'moe');
  if (mixtral) {
    out.architectures = ['MixtralForCausalLM'];
    out.model_type = 'mixtral';
    out.intermediate_size = ffn / o.granularity;
    delete extras.ffn_kinds;
  } else {
    extras.ffn_kinds = newKinds;
    if (o.granularity > 1) extras.ffn_options = { ...extras.ffn_options, moe: { ...extras.ffn_options?.moe, expert_intermediate_size: ffn / o.granularity } };
  }
  if (Object.keys(extras).length > 0) out.efficientscale = extras;
  else delete out.efficientscale;
  return { config: out, mixtral };
}

/** Experts of one layer from a dense FFN (weights or one Adam moment), copies then slices. */
function expertsOf(dense: DenseFfnData, o: CheckedOptions, downScale: number, each?: (e: ExpertData) => void): ExpertData[] {
  const out: ExpertData[] = [];
  for (let c = 0; c < o.experts; c++) {
    for (const e of sliceFfn(dense, o.granularity, downScale)) {
      each?.(e);
      out.push(e);
    }
  }
  return out;
}

function putExperts(target: Record<string, tf.Tensor>, prefix: string, experts: ExpertData[], f: number, hidden: number): void {
  experts.forEach((e, i) => {
    target[prefix + expertWeight(i, 'w1')] = tf.tensor2d(e.w1, [f, hidden]);
    target[prefix + expertWeight(i, 'w3')] = tf.tensor2d(e.w3, [f, hidden]);
    target[prefix + expertWeight(i, 'w2')] = tf.tensor2d(e.w2, [hidden, f]);
  });
}

/**
 * Sparse upcycling (Komatsuzaki et al. 2022): each chosen layer's dense FFN becomes `experts` copies and
 * a router. Without noise or drop the model computes the same function whatever the router, because
 * the selected weights sum to 1 and every expert is the dense FFN. With granularity g each copy is split
 * into g slices (down scaled by g) and the router row of a copy is shared by its slices, so a copy's
 * slices tie and are chosen together: still exact, with topK·g of experts·g experts active.
 */
export function upcycle(config: ModelConfig, params: Params, options: UpcycleOptions): UpcycleResult {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const o = checkOptions(options, d.ffn, kinds);
  const f = d.ffn / o.granularity;
  const rnd = normal(o.seed);
  const rand = uniform(o.seed + 1);
  const calibration = options.calibrationTokens ?? defaultCalibration(d.vocab, d.maxPositions, o.seed);
  const states = o.routerInit === 'kmeans' ? ffnInputs(config, params, calibration) : [];
  const { config: newConfig, mixtral } = upcycledConfig(config, o, kinds);

  const moeLayers = new Set(o.layers);
  const isDenseFfnOfMoeLayer = (name: string) => o.layers.some((i) => Object.values(denseNames).some((n) => name === layerPrefix(i) + n));
  const newParams: Params = {};
  for (const [name, t] of Object.entries(params)) if (!isDenseFfnOfMoeLayer(name)) newParams[name] = tf.clone(t);
  for (const i of moeLayers) {
    const prefix = layerPrefix(i);
    const dense = denseData((n) => params[n], prefix, d.ffn, d.hidden)!;
    putExperts(newParams, prefix, expertsOf(dense, o, o.granularity, (e) => perturb(e, o, f, d.hidden, rnd, rand)), f, d.hidden);
    newParams[prefix + routerWeight] = tf.tensor2d(routerRows(o, d.hidden, states[i], rnd), [o.experts * o.granularity, d.hidden]);
  }

  let optimizer: Record<string, tf.Tensor> | undefined;
  if (options.optimizer) {
    optimizer = {};
    const state = options.optimizer;
    for (const [key, t] of Object.entries(state)) if (!isDenseFfnOfMoeLayer(key.slice(2))) optimizer[key] = tf.clone(t);
    // Router moments are left out: AdamW starts missing moments at zero.
    if (!options.resetOptimizer) {
      for (const i of moeLayers) {
        for (const [moment, scale] of [['m.', o.granularity], ['v.', o.granularity ** 2]] as const) {
          const dense = denseData((n) => state[moment + n], layerPrefix(i), d.ffn, d.hidden);
          if (dense) putExperts(optimizer, moment + layerPrefix(i), expertsOf(dense, o, scale), f, d.hidden);
        }
      }
    }
  }

  const before = forward(config, params, calibration);
  const after = forward(newConfig, newParams, calibration);
  const maxAbsLogitDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]);
  tf.dispose([before, after]);
  if (!options.calibrationTokens) calibration.dispose();

  const report: UpcycleReport = {
    layers: o.layers,
    experts: o.experts * o.granularity,
    topK: o.topK * o.granularity,
    granularity: o.granularity,
    expertIntermediateSize: f,
    routerInit: o.routerInit,
    noise: o.noise,
    dropFraction: o.dropFraction,
    mixtral,
    paramsBefore: countParams(config),
    paramsAfter: countParams(newConfig),
    activeMatmulParamsBefore: flopsPerToken(config, 1).activeMatmulParams,
    activeMatmulParamsAfter: flopsPerToken(newConfig, 1).activeMatmulParams,
    maxAbsLogitDiff,
    optimizer: !options.optimizer ? 'none' : options.resetOptimizer ? 'reset' : 'copied',
  };
  return { config: newConfig, params: newParams, report, ...(optimizer ? { optimizer } : {}) };
}
