import {
  copyOutput,
  countParams,
  dimsOf,
  ffnKinds,
  layerPrefix,
  mismatch,
  tf,
  transformInMemory,
  weightTable,
  withFfnKinds,
  withFfnOptions,
  withoutMoments,
  type ModelConfig,
  type Params,
  type PlanOutput,
  type ReadTensor,
  type TransformPlan,
} from '@efficientscale/core/node';
import { choleskyUpper, invertUpper } from './linalg.js';
import { exactSvd, randomizedSvd, type Svd } from './svd.js';
import { ffnCovariances, type FfnCovariance } from './calibration.js';
import { breakEvenRank, rankForFraction, type FfnWeight } from './options.js';
import { sharedVName, uName, vName } from './ffn.js';

export interface LowRankPlanOptions {
  /** One rank for every weight (clamped to each weight's min(out, in): a huge rank means full rank; needs force at or above break-even). */
  rank?: number;
  /** Keep this fraction of each FFN's parameters. */
  fraction?: number;
  /** Per weight, the smallest rank whose singular values keep this share of Σσ² (needs the spectrum: lowRankStats). */
  energy?: number;
  /** Leave layer 0 dense (default true). */
  keepFirstDense?: boolean;
  /** gate_proj and up_proj share one V: the SVD of the stacked [gate; up] weight. */
  shareGateUpV?: boolean;
  /** Allow ranks at or above break-even. */
  force?: boolean;
  seed?: number;
}

export interface ToLowRankOptions extends LowRankPlanOptions {
  /** Activation-aware (SVD-LLM): whiten each weight by the Cholesky factor of its input covariance on these tokens. */
  aware?: { tokens: tf.Tensor2D };
  /** Tokens [batch, seq] to compare logits on; default core's seeded probe batch. */
  probe?: tf.Tensor2D;
}

export interface WeightReport {
  name: string;
  shape: [number, number];
  rank: number;
  breakEvenRank: number;
  /** Σ kept σ² / Σ σ² (of the whitened weight when activation-aware). */
  keptEnergy: number;
  /** ‖W − U·V‖_F / ‖W‖_F. */
  relativeError: number;
}

/** What a conversion plan says; `weights` is filled in as each weight is factorised. */
export interface LowRankPlanReport {
  weights: WeightReport[];
  paramsBefore: number;
  paramsAfter: number;
}

export interface ToLowRankReport extends LowRankPlanReport {
  /** max |logits before − logits after| on the probe batch. */
  probeMaxAbsLogitDiff: number;
  /** ‖Δlogits‖_F / ‖logits‖_F on the probe batch. */
  probeRelativeLogitDiff: number;
}

/** What a whole-model pass gives the plan: FFN input covariances (activation-aware) and ranks picked by energy. */
export interface LowRankStats {
  covariances?: Map<number, FfnCovariance>;
  /** The rank of each factorised weight (by its dense name, or `…mlp.gate_up_proj.weight` when gate and up share V). */
  ranks?: Record<string, number>;
}

const frobSq = (t: tf.Tensor) => tf.tidy(() => tf.sum(tf.square(t)).dataSync()[0]);

/** Lower Cholesky factor L (C + ridge = L·Lᵀ) and L⁻¹ of an n×n covariance, as float32 tensors. */
function whitening(cov: Float64Array, n: number): { l: tf.Tensor2D; lInv: tf.Tensor2D } {
  const c = Float64Array.from(cov);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += c[i * n + i];
  // A small ridge keeps C positive definite when calibration tokens are few or activations degenerate.
  for (let i = 0; i < n; i++) c[i * n + i] += (1e-6 * trace) / n;
  const r = choleskyUpper(c, n); // C = Rᵀ R, so L = Rᵀ
  const rInv = invertUpper(r, n);
  return tf.tidy(() => ({
    l: tf.transpose(tf.tensor2d(Float32Array.from(r), [n, n])) as tf.Tensor2D,
    lInv: tf.transpose(tf.tensor2d(Float32Array.from(rInv), [n, n])) as tf.Tensor2D,
  }));
}

function rankForEnergy(s: Float64Array, total: number, energy: number): number {
  let kept = 0;
  for (let r = 0; r < s.length; r++) {
    kept += s[r] * s[r];
    if (kept >= energy * total * (1 - 1e-12)) return r + 1;
  }
  return s.length;
}

/** W·L (the whitened weight) or W itself, and the whitening to undo on V. */
function target(w: tf.Tensor2D, cov: Float64Array | undefined) {
  const white = cov ? whitening(cov, w.shape[1]) : undefined;
  return { white, t: white ? (tf.matMul(w, white.l) as tf.Tensor2D) : w };
}

/**
 * W [m, n] ≈ U [m, r] · V [r, n] by truncated SVD, U = U_r√Σ, V = √ΣV_rᵀ. With a covariance C of the
 * inputs, factors W·L instead (C = L·Lᵀ) and maps V back by L⁻¹: that minimises ‖(W − U·V)·X‖ on the inputs.
 * `exact` takes the full SVD (energy-picked ranks), else a randomized one.
 */
function factorise(w: tf.Tensor2D, rank: number, exact: boolean, cov: Float64Array | undefined, seed: number) {
  const [m, n] = w.shape;
  const { white, t } = target(w, cov);
  const total = frobSq(t);
  const svd: Svd = exact ? exactSvd(t, rank) : randomizedSvd(t, rank, { seed });
  const keptEnergy = svd.s.slice(0, rank).reduce((a, s) => a + s * s, 0) / total;
  const factors = tf.tidy(() => {
    const root = tf.tensor1d(Float32Array.from(svd.s.slice(0, rank), Math.sqrt));
    const u = tf.mul(tf.slice(svd.u, [0, 0], [m, rank]), root) as tf.Tensor2D;
    let v = tf.transpose(tf.mul(tf.slice(svd.v, [0, 0], [n, rank]), root)) as tf.Tensor2D;
    if (white) v = tf.matMul(v, white.lInv) as tf.Tensor2D;
    return { u, v };
  });
  tf.dispose([svd.u, svd.v]);
  if (white) tf.dispose([white.l, white.lInv, t]);
  return { ...factors, keptEnergy };
}

/** The layers a conversion turns low-rank. */
function convertedLayers(config: ModelConfig, o: LowRankPlanOptions): boolean[] {
  const kinds = ffnKinds(config);
  const keepFirst = o.keepFirstDense ?? true;
  const convert = kinds.map((k, i) => k === 'dense' && !(keepFirst && i === 0));
  if (!convert.some(Boolean)) throw mismatch('toLowRank', 'at least one dense FFN layer to convert', `kinds [${kinds.join(', ')}]${keepFirst ? ' with the first kept dense' : ''}`);
  return convert;
}

function checkChoice(o: LowRankPlanOptions): void {
  const given = [o.rank, o.fraction, o.energy].filter((x) => x !== undefined).length;
  if (given !== 1) throw mismatch('toLowRank options', 'exactly one of rank, fraction, energy', `${given}`);
  if (o.energy !== undefined && !(o.energy > 0 && o.energy <= 1)) throw mismatch('energy', 'a number in (0, 1]', String(o.energy));
}

/** One factorised weight of a layer: its dense source(s), shape and the names of its U (or Us) and V. */
interface Factorised {
  key: string;
  sources: string[];
  shape: [number, number];
  us: string[];
  v: string;
  input: 'x' | 'h';
}

function factorisedWeights(config: ModelConfig, layer: number, shared: boolean): Factorised[] {
  const d = dimsOf(config);
  const p = layerPrefix(layer);
  const dense = (proj: FfnWeight) => `${p}mlp.${proj}.weight`;
  const gateUp: Factorised[] = shared
    ? [{ key: `${p}mlp.gate_up_proj.weight`, sources: [dense('gate_proj'), dense('up_proj')], shape: [2 * d.ffn, d.hidden], us: [p + uName('gate_proj'), p + uName('up_proj')], v: p + sharedVName, input: 'x' }]
    : (['gate_proj', 'up_proj'] as const).map((proj) => ({ key: dense(proj), sources: [dense(proj)], shape: [d.ffn, d.hidden] as [number, number], us: [p + uName(proj)], v: p + vName(proj), input: 'x' as const }));
  return [...gateUp, { key: dense('down_proj'), sources: [dense('down_proj')], shape: [d.hidden, d.ffn], us: [p + uName('down_proj')], v: p + vName('down_proj'), input: 'h' }];
}

/**
 * One forward pass with a tap (activation-aware covariances on `tokens`) and, for energy-picked ranks, each
 * weight's spectrum: what planLowRank needs beyond the config.
 */
export function lowRankStats(config: ModelConfig, params: Params, o: LowRankPlanOptions, tokens?: tf.Tensor2D): LowRankStats {
  checkChoice(o);
  const covariances = tokens ? ffnCovariances(config, params, tokens) : undefined;
  if (o.energy === undefined) return { covariances };
  const ranks: Record<string, number> = {};
  convertedLayers(config, o).forEach((convert, i) => {
    if (!convert) return;
    for (const f of factorisedWeights(config, i, o.shareGateUpV === true)) {
      const w = tf.concat(f.sources.map((s) => params[s]), 0) as tf.Tensor2D;
      const { white, t } = target(w, covariances?.get(i)?.[f.input]);
      const svd = exactSvd(t);
      ranks[f.key] = rankForEnergy(svd.s, frobSq(t), o.energy!);
      tf.dispose([svd.u, svd.v, w, ...(white ? [white.l, white.lInv, t] : [])]);
    }
  });
  return { covariances, ranks };
}

/**
 * Dense FFN layers → `lowrank` layers by truncated SVD of each FFN weight, as a plan; everything else is
 * copied. The resolved rank of every weight is stored in the config (`layer_ranks`). Ranks at or above the
 * break-even rank m·n/(m+n) are refused unless `force`. U and V of a weight come from one factorisation,
 * kept until both are written.
 */
export function planLowRank(config: ModelConfig, options: LowRankPlanOptions, stats: LowRankStats = {}): TransformPlan<LowRankPlanReport> {
  checkChoice(options);
  const d = dimsOf(config);
  const shared = options.shareGateUpV === true;
  const convert = convertedLayers(config, options);
  if (options.energy !== undefined && !stats.ranks) throw new Error('planLowRank: energy-picked ranks need stats (lowRankStats)');
  const fixedRank = options.rank ?? (options.fraction !== undefined ? rankForFraction(options.fraction, d, shared) : undefined);
  const factorised = new Map<string, Factorised & { layer: number; rank: number }>();
  const layerRanks: Record<string, Partial<Record<FfnWeight, number>>> = {};
  const kinds = ffnKinds(config);
  const newKinds = [...kinds];
  convert.forEach((yes, i) => {
    if (!yes) return;
    newKinds[i] = 'lowrank';
    const ranks: Partial<Record<FfnWeight, number>> = {};
    for (const f of factorisedWeights(config, i, shared)) {
      const [m, n] = f.shape;
      const asked = fixedRank ?? stats.ranks![f.key];
      // A rank above min(m, n) adds nothing: full rank is exact, so it is clamped (it is above break-even: force only).
      const rank = Math.min(asked, m, n);
      const star = breakEvenRank(m, n);
      if (rank >= star && !options.force) {
        const what = options.rank !== undefined ? 'rank' : options.fraction !== undefined ? `rank for fraction ${options.fraction}` : `rank for energy ${options.energy}`;
        throw mismatch(what, `a rank below the break-even rank ${star.toFixed(2)} of the [${m}, ${n}] ${f.key.replace(/^.*mlp\./, '')} (or force)`, asked === rank ? String(asked) : `${asked} (${rank} after clamping to min(out, in))`);
      }
      for (const proj of f.key.endsWith('gate_up_proj.weight') ? (['gate_proj', 'up_proj'] as const) : [f.key.match(/mlp\.(\w+)\.weight$/)![1] as FfnWeight]) ranks[proj] = rank;
      factorised.set(f.v, { ...f, layer: i, rank });
      for (const u of f.us) factorised.set(u, { ...f, layer: i, rank });
    }
    layerRanks[String(i)] = ranks;
  });
  const lowrank = { layer_ranks: layerRanks, ...(shared ? { share_gate_up_v: true } : {}), ...(options.force ? { force: true } : {}) };
  const newConfig = withFfnOptions(withFfnKinds(config, newKinds), 'lowrank', lowrank);
  const report: LowRankPlanReport = { weights: [], paramsBefore: countParams(config), paramsAfter: countParams(newConfig) };

  // Factors of a weight computed once: what is not yet written waits here (memory: a few factors).
  const pending = new Map<string, Map<string, Float32Array>>();
  const factorsOf = (f: Factorised & { layer: number; rank: number }, read: ReadTensor): Map<string, Float32Array> => {
    const held = pending.get(f.key);
    if (held) return held;
    const [m, n] = f.shape;
    const out = new Map<string, Float32Array>();
    tf.tidy(() => {
      const w = tf.tensor2d(f.sources.length === 1 ? read(f.sources[0]) : concat(f.sources.map(read)), [m, n]);
      const cov = stats.covariances?.get(f.layer)?.[f.input];
      const r = factorise(w, f.rank, options.energy !== undefined, cov, (options.seed ?? 0) + f.layer);
      const relativeError = Math.sqrt(frobSq(tf.sub(w, tf.matMul(r.u, r.v))) / frobSq(w));
      report.weights.push({ name: f.key, shape: [m, n], rank: f.rank, breakEvenRank: breakEvenRank(m, n), keptEnergy: r.keptEnergy, relativeError });
      const u = r.u.dataSync() as Float32Array;
      const rowsPer = m / f.us.length;
      f.us.forEach((name, k) => out.set(name, u.slice(k * rowsPer * f.rank, (k + 1) * rowsPer * f.rank)));
      out.set(f.v, Float32Array.from(r.v.dataSync()));
    });
    pending.set(f.key, out);
    return out;
  };
  const outputs: PlanOutput[] = weightTable(newConfig).map((w): PlanOutput => {
    const f = factorised.get(w.name);
    if (!f) return copyOutput(w.name, w.name, w.shape);
    return {
      name: w.name,
      shape: w.shape,
      compute: (read) => {
        const held = factorsOf(f, read);
        const data = held.get(w.name);
        if (!data) {
          pending.delete(f.key); // asked twice: factorise again (deterministic)
          return factorsOf(f, read).get(w.name)!;
        }
        held.delete(w.name);
        if (held.size === 0) pending.delete(f.key);
        return data;
      },
    };
  });
  // Factors have new shapes: no moments are mapped (the output starts a run with --init-from).
  return { config: newConfig, outputs: withoutMoments(outputs), report };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Dense layers → `lowrank` layers by truncated SVD in memory (planLowRank run on `params`), with the logit gap on a probe batch. */
export function toLowRank(config: ModelConfig, params: Params, options: ToLowRankOptions): { config: ModelConfig; params: Params; report: ToLowRankReport } {
  const plan = () => planLowRank(config, options, lowRankStats(config, params, options, options.aware?.tokens));
  const out = transformInMemory(plan, params, { sourceConfig: config, probeTokens: options.probe });
  return { config: out.config, params: out.params, report: { ...out.report, probeMaxAbsLogitDiff: out.probe!.maxAbsLogitDiff, probeRelativeLogitDiff: out.probe!.relativeLogitDiff } };
}
