import {
  copyOutput,
  countParams,
  createRng,
  dimsOf,
  ffnKinds,
  flopsPerToken,
  layerPrefix,
  tf,
  transformInMemory,
  weightTable,
  withFfnKinds,
  withFfnOptions,
  type ModelConfig,
  type Params,
  type PlanOutput,
  type ReadTensor,
  type TransformPlan,
} from '@efficientscale/core';
import { expertWeight, routerWeight } from './moe-config.js';
import { checkOptions, type CheckedOptions, type UpcycleOptions, type UpcyclePlanOptions } from './upcycle-options.js';
import { ffnInputs } from './capture.js';
import { kmeans } from './kmeans.js';
import './register.js';

/** What an upcycling plan says before it runs. */
export interface UpcyclePlanReport {
  layers: number[];
  experts: number;
  topK: number;
  granularity: number;
  expertIntermediateSize: number;
  routerInit: string;
  noise: number;
  dropFraction: number;
  /** The load-balancing and router z-loss coefficients the upcycled model trains with. */
  auxLossCoef: number;
  zLossCoef: number;
  /** True when the result is a plain MixtralForCausalLM config that transformers loads as it is. */
  mixtral: boolean;
  paramsBefore: number;
  paramsAfter: number;
  activeMatmulParamsBefore: number;
  activeMatmulParamsAfter: number;
}

export interface UpcycleReport extends UpcyclePlanReport {
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

/** What a whole-model pass gives the plan: each layer's FFN inputs on calibration tokens (for k-means routers). */
export interface UpcycleStats {
  ffnInputs: Float32Array[];
}

const denseOf = { w1: 'mlp.gate_proj.weight', w3: 'mlp.up_proj.weight', w2: 'mlp.down_proj.weight' } as const;

/** Seeded calibration tokens [4, ≤32] when the caller has no text. */
export function defaultCalibration(config: ModelConfig, seed: number): tf.Tensor2D {
  const rng = createRng(seed, 'upcycle-calibration');
  const seq = Math.min(32, dimsOf(config).maxPositions);
  return tf.tensor2d(Int32Array.from({ length: 4 * seq }, () => rng.nextInt(config.vocab_size)), [4, seq], 'int32');
}

/** One forward pass with a tap: the statistics `planUpcycle` needs for k-means routers. */
export function upcycleStats(config: ModelConfig, params: Params, tokens: tf.Tensor2D): UpcycleStats {
  return { ffnInputs: ffnInputs(config, params, tokens) };
}

/**
 * The config `upcycle` gives for these options (Mixtral's when every layer becomes MoE), without the
 * weights.
 */
export function upcycledModelConfig(config: ModelConfig, options: UpcyclePlanOptions): ModelConfig {
  const kinds = ffnKinds(config);
  return upcycledConfig(config, checkOptions(options, dimsOf(config).ffn, kinds), kinds).config;
}

function upcycledConfig(config: ModelConfig, o: CheckedOptions, kinds: string[]): { config: ModelConfig; mixtral: boolean } {
  const ffn = dimsOf(config).ffn;
  const moeLayers = new Set(o.layers);
  const newKinds = kinds.map((k, i) => (moeLayers.has(i) ? 'moe' : k));
  let out: ModelConfig = {
    ...structuredClone(config),
    num_local_experts: o.experts * o.granularity,
    num_experts_per_tok: o.topK * o.granularity,
    router_aux_loss_coef: o.auxLossCoef ?? (config.router_aux_loss_coef as number | undefined) ?? 0.001,
  };
  if (o.zLossCoef !== undefined) out = withFfnOptions(out, 'moe', { ...out.efficientscale?.ffn_options?.moe, router_z_loss_coef: o.zLossCoef });
  const mixtral = newKinds.every((k) => k === 'moe');
  if (mixtral) {
    out = { ...out, architectures: ['MixtralForCausalLM'], model_type: 'mixtral', intermediate_size: ffn / o.granularity };
  } else if (o.granularity > 1) {
    out = withFfnOptions(out, 'moe', { ...out.efficientscale?.ffn_options?.moe, expert_intermediate_size: ffn / o.granularity });
  }
  return { config: withFfnKinds(out, newKinds), mixtral };
}

/** Population standard deviation of an array. */
function stdOf(a: Float32Array): number {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i] / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - mean) ** 2 / a.length;
  return Math.sqrt(v);
}

/**
 * Slice `s` (of g) of one dense projection: rows s·f..(s+1)·f of gate/up, the same columns of down scaled
 * by `downScale` (g for weights, so that g slices each weighted 1/g sum back to the dense FFN; g² for v).
 */
function sliceOf(dense: Float32Array, w: 'w1' | 'w2' | 'w3', s: number, f: number, ffn: number, hidden: number, downScale: number): Float32Array {
  if (w !== 'w2') return dense.slice(s * f * hidden, (s + 1) * f * hidden);
  const out = new Float32Array(hidden * f);
  for (let h = 0; h < hidden; h++) for (let j = 0; j < f; j++) out[h * f + j] = dense[h * ffn + s * f + j] * downScale;
  return out;
}

/** Router rows, one per copy, repeated for its g slices so that a copy's slices are always picked together. */
function routerRows(o: CheckedOptions, hidden: number, name: string, states: Float32Array | undefined): Float32Array {
  let rows: Float32Array = new Float32Array(o.experts * hidden);
  if (o.routerInit === 'random') {
    const rng = createRng(o.seed, name);
    for (let i = 0; i < rows.length; i++) rows[i] = o.routerStd * rng.normal();
  }
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

/**
 * Noise on every weight, then drop-upcycling's re-initialised units (the same units in w1, w2 and w3 of
 * an expert), each drawn from its own stream of the seed: the output's values for noise and new units,
 * the expert's for which units drop.
 */
function perturb(data: Float32Array, w: 'w1' | 'w2' | 'w3', o: CheckedOptions, name: string, expertName: string, f: number, hidden: number): Float32Array {
  const rng = createRng(o.seed, name);
  if (o.noise > 0) for (let i = 0; i < data.length; i++) data[i] += o.noise * rng.normal();
  const drop = Math.round(o.dropFraction * f);
  if (drop === 0) return data;
  const std = stdOf(data);
  const pick = createRng(o.seed, `${expertName}.dropped-units`);
  const units = Array.from({ length: f }, (_, j) => j);
  for (let j = f - 1; j > 0; j--) {
    const r = pick.nextInt(j + 1);
    [units[j], units[r]] = [units[r], units[j]];
  }
  for (const j of units.slice(0, drop)) {
    for (let h = 0; h < hidden; h++) data[w === 'w2' ? h * f + j : j * hidden + h] = std * rng.normal();
  }
  return data;
}

/**
 * Sparse upcycling (Komatsuzaki et al. 2022) as a plan: each chosen layer's dense FFN becomes `experts`
 * copies and a router. Without noise or drop the model computes the same function whatever the router,
 * because the selected weights sum to 1 and every expert is the dense FFN. With granularity g each copy
 * is split into g slices (down scaled by g) and the router row of a copy is shared by its slices, so a
 * copy's slices tie and are chosen together: still exact, with topK·g of experts·g experts active. The
 * experts' AdamW moments are the dense ones sliced the same way (or zero with resetOptimizer).
 * k-means routers need `stats` (upcycleStats: one forward pass over calibration tokens).
 */
export function planUpcycle(config: ModelConfig, options: UpcyclePlanOptions, stats?: UpcycleStats): TransformPlan<UpcyclePlanReport> {
  const d = dimsOf(config);
  const kinds = ffnKinds(config);
  const o = checkOptions(options, d.ffn, kinds);
  if (o.routerInit === 'kmeans' && !stats) throw new Error('planUpcycle: k-means routers need stats (upcycleStats) from a forward pass');
  const f = d.ffn / o.granularity;
  const { config: newConfig, mixtral } = upcycledConfig(config, o, kinds);
  const moeLayers = new Set(o.layers);
  const outputs: PlanOutput[] = weightTable(newConfig).map((w): PlanOutput => {
    if (w.layer === undefined || !moeLayers.has(w.layer) || w.owner !== 'moe') return copyOutput(w.name, w.name, w.shape);
    const prefix = layerPrefix(w.layer);
    if (w.name === prefix + routerWeight) {
      const rows = routerRows(o, d.hidden, w.name, stats?.ffnInputs[w.layer]);
      return { name: w.name, shape: w.shape, compute: () => rows.slice() };
    }
    const m = w.name.slice(prefix.length).match(/^block_sparse_moe\.experts\.(\d+)\.(w[123])\.weight$/);
    if (!m) throw new Error(`planUpcycle: unexpected MoE weight "${w.name}"`);
    const expert = Number(m[1]);
    const which = m[2] as 'w1' | 'w2' | 'w3';
    const source = prefix + denseOf[which];
    const slice = (read: ReadTensor, downScale: number) => sliceOf(read(source), which, expert % o.granularity, f, d.ffn, d.hidden, downScale);
    return {
      name: w.name,
      shape: w.shape,
      compute: (read) => perturb(slice(read, o.granularity), which, o, w.name, prefix + expertWeight(expert, which).replace(/\.w[123]\.weight$/, ''), f, d.hidden),
      moment: options.resetOptimizer ? undefined : (read, kind) => slice(read, kind === 'v' ? o.granularity ** 2 : o.granularity),
    };
  });
  const report: UpcyclePlanReport = {
    layers: o.layers,
    experts: o.experts * o.granularity,
    topK: o.topK * o.granularity,
    granularity: o.granularity,
    expertIntermediateSize: f,
    routerInit: o.routerInit,
    noise: o.noise,
    dropFraction: o.dropFraction,
    auxLossCoef: newConfig.router_aux_loss_coef as number,
    zLossCoef: (newConfig.efficientscale?.ffn_options?.moe?.router_z_loss_coef as number | undefined) ?? 0,
    mixtral,
    paramsBefore: countParams(config),
    paramsAfter: countParams(newConfig),
    activeMatmulParamsBefore: flopsPerToken(config, 1).activeMatmulParams,
    activeMatmulParamsAfter: flopsPerToken(newConfig, 1).activeMatmulParams,
  };
  return { config: newConfig, outputs, report };
}

/** Sparse upcycling in memory (planUpcycle run on `params`); the logit gap is measured on the calibration tokens. */
export function upcycle(config: ModelConfig, params: Params, options: UpcycleOptions): UpcycleResult {
  const calibration = options.calibrationTokens ?? defaultCalibration(config, options.seed ?? 0);
  try {
    const plan = () => planUpcycle(config, options, options.routerInit === 'kmeans' ? upcycleStats(config, params, calibration) : undefined);
    const out = transformInMemory(plan, params, { sourceConfig: config, optimizer: options.optimizer, probeTokens: calibration });
    const report: UpcycleReport = {
      ...out.report,
      maxAbsLogitDiff: out.probe!.maxAbsLogitDiff,
      optimizer: !options.optimizer ? 'none' : options.resetOptimizer ? 'reset' : 'copied',
    };
    return { config: out.config, params: out.params, report, ...(out.optimizer ? { optimizer: out.optimizer } : {}) };
  } finally {
    if (!options.calibrationTokens) calibration.dispose();
  }
}
