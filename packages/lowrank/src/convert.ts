import { tf, dimsOf, ffnKinds, forward, layerPrefix, mismatch, paramShapes, type ModelConfig, type Params } from '@efficientscale/core';
import { choleskyUpper, invertUpper } from './linalg.js';
import { exactSvd, randomizedSvd, type Svd } from './svd.js';
import { ffnCovariances, type FfnCovariance } from './calibration.js';
import { breakEvenRank, rankForFraction, type FfnWeight } from './options.js';
import { sharedVName, uName, vName } from './ffn.js';

export interface ToLowRankOptions {
  /** One rank for every weight (clamped to each weight's min(out, in): a huge rank means full rank). */
  rank?: number;
  /** Keep this fraction of each FFN's parameters. */
  fraction?: number;
  /** Per weight, the smallest rank whose singular values keep this share of Σσ² (needs the full spectrum: exact SVD). */
  energy?: number;
  /** Leave layer 0 dense (default true). */
  keepFirstDense?: boolean;
  /** gate_proj and up_proj share one V: the SVD of the stacked [gate; up] weight. */
  shareGateUpV?: boolean;
  /** Allow ranks at or above break-even. */
  force?: boolean;
  /** Activation-aware (SVD-LLM): whiten each weight by the Cholesky factor of its input covariance on these tokens. */
  aware?: { tokens: tf.Tensor2D };
  /** Tokens [batch, seq] to compare logits on; default 2×16 seeded random tokens. */
  probe?: tf.Tensor2D;
  seed?: number;
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

export interface ToLowRankReport {
  weights: WeightReport[];
  paramsBefore: number;
  paramsAfter: number;
  /** max |logits before − logits after| on the probe batch. */
  probeMaxAbsLogitDiff: number;
  /** ‖Δlogits‖_F / ‖logits‖_F on the probe batch. */
  probeRelativeLogitDiff: number;
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

/**
 * W [m, n] ≈ U [m, r] · V [r, n] by truncated SVD, U = U_r√Σ, V = √ΣV_rᵀ. With a covariance C of the
 * inputs, factors W·L instead (C = L·Lᵀ) and maps V back by L⁻¹: that minimises ‖(W − U·V)·X‖ on the inputs.
 */
function factorise(w: tf.Tensor2D, pickRank: (s?: Float64Array, total?: number) => number | undefined, cov: Float64Array | undefined, seed: number) {
  const [m, n] = w.shape;
  const white = cov ? whitening(cov, n) : undefined;
  const target = white ? (tf.matMul(w, white.l) as tf.Tensor2D) : w;
  const total = frobSq(target);
  let svd: Svd;
  let rank = pickRank();
  if (rank === undefined) {
    svd = exactSvd(target);
    rank = pickRank(svd.s, total) as number;
  } else {
    // A rank above min(m, n) adds nothing: full rank is exact, so clamp rather than refuse.
    rank = Math.min(rank, m, n);
    svd = randomizedSvd(target, rank, { seed });
  }
  const r = rank;
  const keptEnergy = svd.s.slice(0, r).reduce((a, s) => a + s * s, 0) / total;
  const factors = tf.tidy(() => {
    const root = tf.tensor1d(Float32Array.from(svd.s.slice(0, r), Math.sqrt));
    const u = tf.mul(tf.slice(svd.u, [0, 0], [m, r]), root) as tf.Tensor2D;
    let v = tf.transpose(tf.mul(tf.slice(svd.v, [0, 0], [n, r]), root)) as tf.Tensor2D;
    if (white) v = tf.matMul(v, white.lInv) as tf.Tensor2D;
    return { u, v };
  });
  tf.dispose([svd.u, svd.v]);
  if (white) tf.dispose([white.l, white.lInv, target]);
  return { ...factors, rank: r, keptEnergy };
}

/** Dense layers → `lowrank` layers by truncated SVD of each FFN weight; everything else is copied. */
export function toLowRank(config: ModelConfig, params: Params, options: ToLowRankOptions): { config: ModelConfig; params: Params; report: ToLowRankReport } {
  const d = dimsOf(config);
  const given = [options.rank, options.fraction, options.energy].filter((x) => x !== undefined).length;
  if (given !== 1) throw mismatch('toLowRank options', 'exactly one of rank, fraction, energy', `${given}`);
  if (options.energy !== undefined && !(options.energy > 0 && options.energy <= 1)) throw mismatch('energy', 'a number in (0, 1]', String(options.energy));
  const keepFirst = options.keepFirstDense ?? true;
  const shared = options.shareGateUpV === true;
  const kinds = ffnKinds(config);
  const convert = kinds.map((k, i) => k === 'dense' && !(keepFirst && i === 0));
  if (!convert.some(Boolean)) throw mismatch('toLowRank', 'at least one dense FFN layer to convert', `kinds [${kinds.join(', ')}]${keepFirst ? ' with the first kept dense' : ''}`);
  const covs: Map<number, FfnCovariance> | undefined = options.aware ? ffnCovariances(config, params, options.aware.tokens) : undefined;
  const fixedRank = options.rank ?? (options.fraction !== undefined ? rankForFraction(options.fraction, d, shared) : undefined);
  const pickRank = (s?: Float64Array, total?: number) => (fixedRank !== undefined ? fixedRank : s ? rankForEnergy(s, total as number, options.energy as number) : undefined);

  const out: Params = {};
  const weights: WeightReport[] = [];
  const layerRanks: Record<string, Partial<Record<FfnWeight, number>>> = {};
  const newKinds = [...kinds];
  for (const [name, t] of Object.entries(params)) out[name] = tf.clone(t);
  try {
    for (let i = 0; i < d.layers; i++) {
      if (!convert[i]) continue;
      newKinds[i] = 'lowrank';
      const p = layerPrefix(i);
      const w = (proj: FfnWeight) => params[`${p}mlp.${proj}.weight`] as tf.Tensor2D;
      const ranks: Partial<Record<FfnWeight, number>> = {};
      const record = (name: string, dense: tf.Tensor2D, f: { u: tf.Tensor2D; v: tf.Tensor2D; rank: number; keptEnergy: number }) => {
        const [m, n] = dense.shape;
        const err = tf.tidy(() => Math.sqrt(frobSq(tf.sub(dense, tf.matMul(f.u, f.v))) / frobSq(dense)));
        weights.push({ name, shape: [m, n], rank: f.rank, breakEvenRank: breakEvenRank(m, n), keptEnergy: f.keptEnergy, relativeError: err });
      };
      for (const proj of ['gate_proj', 'up_proj', 'down_proj'] as const) out[`${p}mlp.${proj}.weight`].dispose();
      for (const proj of ['gate_proj', 'up_proj', 'down_proj'] as const) delete out[`${p}mlp.${proj}.weight`];
      if (shared) {
        const stacked = tf.concat([w('gate_proj'), w('up_proj')], 0) as tf.Tensor2D;
        const f = factorise(stacked, pickRank, covs?.get(i)?.x, (options.seed ?? 0) + i);
        record(`${p}mlp.gate_up_proj.weight`, stacked, f);
        stacked.dispose();
        const [ug, uu] = tf.split(f.u, 2, 0);
        out[p + uName('gate_proj')] = ug;
        out[p + uName('up_proj')] = uu;
        out[p + sharedVName] = f.v;
        f.u.dispose();
        ranks.gate_proj = ranks.up_proj = f.rank;
      } else {
        for (const proj of ['gate_proj', 'up_proj'] as const) {
          const f = factorise(w(proj), pickRank, covs?.get(i)?.x, (options.seed ?? 0) + i);
          record(`${p}mlp.${proj}.weight`, w(proj), f);
          out[p + uName(proj)] = f.u;
          out[p + vName(proj)] = f.v;
          ranks[proj] = f.rank;
        }
      }
      const f = factorise(w('down_proj'), pickRank, covs?.get(i)?.h, (options.seed ?? 0) + i);
      record(`${p}mlp.down_proj.weight`, w('down_proj'), f);
      out[p + uName('down_proj')] = f.u;
      out[p + vName('down_proj')] = f.v;
      ranks.down_proj = f.rank;
      layerRanks[String(i)] = ranks;
    }
    const es = config.efficientscale ?? {};
    const lowrank = { layer_ranks: layerRanks, ...(shared ? { share_gate_up_v: true } : {}), ...(options.force ? { force: true } : {}) };
    const newConfig: ModelConfig = { ...config, efficientscale: { ...es, ffn_kinds: newKinds, ffn_options: { ...es.ffn_options, lowrank } } };
    paramShapes(newConfig); // refuses ranks at or above break-even unless forced
    const report = { weights, paramsBefore: countOf(params), paramsAfter: countOf(out), ...probeDiff(config, params, newConfig, out, d.vocab, d.maxPositions, options) };
    return { config: newConfig, params: out, report };
  } catch (err) {
    tf.dispose(Object.values(out));
    throw err;
  }
}

const countOf = (p: Params) => Object.values(p).reduce((n, t) => n + t.size, 0);

function probeDiff(c0: ModelConfig, p0: Params, c1: ModelConfig, p1: Params, vocab: number, maxPos: number, o: ToLowRankOptions) {
  return tf.tidy(() => {
    const seq = Math.min(16, maxPos);
    const tokens = o.probe ?? (tf.randomUniform([2, seq], 0, vocab, 'int32', o.seed ?? 0) as tf.Tensor2D);
    const a = forward(c0, p0, tokens);
    const b = forward(c1, p1, tokens);
    const diff = tf.sub(a, b);
    return {
      probeMaxAbsLogitDiff: tf.max(tf.abs(diff)).dataSync()[0],
      probeRelativeLogitDiff: Math.sqrt(frobSq(diff) / frobSq(a)),
    };
  });
}
