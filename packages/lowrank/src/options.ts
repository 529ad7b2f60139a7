import { mismatch, type Dims, type ModelConfig } from '@efficientscale/core';

/**
 * Options of the `lowrank` FFN kind, read from `config.efficientscale.ffn_options.lowrank`.
 * One of `rank` / `fraction` / `layer_ranks` sets the ranks; `layer_ranks` (keyed by layer index) wins.
 */
export interface LowRankOptions {
  /** One rank for every factorised weight. */
  rank?: number;
  /** Fraction of the dense FFN's parameters to keep (0.32 → the rank that keeps 32%). */
  fraction?: number;
  /** Per-layer, per-weight ranks, e.g. `{ "1": { "gate_proj": 8, "up_proj": 8, "down_proj": 6 } }`. */
  layer_ranks?: Record<string, Partial<Record<FfnWeight, number>>>;
  /** gate_proj and up_proj share one V (`mlp.gate_up_proj.weight_v`). */
  share_gate_up_v?: boolean;
  /** Allow ranks at or above the break-even rank m·n/(m+n) (no parameter saving). */
  force?: boolean;
  /**
   * Self-guided training: each linear keeps its dense weight too and computes α·W·x + (1−α)·U·(V·x).
   * `guide_alpha` is α (1 = dense only, 0 = low-rank only); schedule it with `guideAlpha(step, total)`.
   */
  self_guided?: boolean;
  guide_alpha?: number;
  /** Self-guided inside a run (`selfGuidedBetweenSteps`): anneal α over this share of the run's steps... */
  guide_fraction?: number;
  /** ...which is this many steps (written on the run's first step); W is dropped after step guide_steps. */
  guide_steps?: number;
  /**
   * Stochastic self-guided variant: each step runs one branch, the dense one with probability α (else the
   * low-rank one), drawn from the step number so that a resumed run draws the same.
   */
  guide_stochastic?: boolean;
}

export const ffnWeights = ['gate_proj', 'up_proj', 'down_proj'] as const;
export type FfnWeight = (typeof ffnWeights)[number];

export interface LayerRanks {
  gate_proj: number;
  up_proj: number;
  down_proj: number;
  shared: boolean;
}

export function lowRankOptions(config: ModelConfig): LowRankOptions {
  const o = config.efficientscale?.ffn_options?.lowrank;
  if (o === undefined) throw mismatch('"efficientscale.ffn_options.lowrank"', 'an object with rank, fraction or layer_ranks', 'nothing');
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw mismatch('"efficientscale.ffn_options.lowrank"', 'an object', JSON.stringify(o));
  return o as LowRankOptions;
}

/** The rank at which U·V has as many parameters as the dense [m, n] weight: m·n/(m+n). */
export const breakEvenRank = (m: number, n: number) => (m * n) / (m + n);

/** Rank keeping `fraction` of the dense FFN's 3·hidden·ffn parameters. */
export function rankForFraction(fraction: number, d: Pick<Dims, 'hidden' | 'ffn'>, shared: boolean): number {
  if (!(fraction > 0 && fraction <= 1)) throw mismatch('lowrank "fraction"', 'a number in (0, 1]', String(fraction));
  const dense = 3 * d.hidden * d.ffn;
  // Parameters per unit of rank: (h+f) per weight, or 3f+2h when gate and up share V.
  const perRank = shared ? 3 * d.ffn + 2 * d.hidden : 3 * (d.hidden + d.ffn);
  return Math.max(1, Math.floor((fraction * dense) / perRank));
}

/** Dense shapes [out, in] of the FFN's weights. */
export const denseShape = (w: FfnWeight, d: Pick<Dims, 'hidden' | 'ffn'>): [number, number] =>
  w === 'down_proj' ? [d.hidden, d.ffn] : [d.ffn, d.hidden];

function checkRank(what: string, r: unknown, m: number, n: number, force: boolean): number {
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > Math.min(m, n)) {
    throw mismatch(what, `an integer in 1..${Math.min(m, n)}`, JSON.stringify(r));
  }
  const star = breakEvenRank(m, n);
  if (r >= star && !force) {
    throw mismatch(what, `a rank below the break-even rank ${star.toFixed(2)} of a [${m}, ${n}] weight (or force: true)`, String(r));
  }
  return r;
}

/** The ranks of one layer's factorised weights, validated. */
export function layerRanks(config: ModelConfig, d: Dims, layer: number): LayerRanks {
  const o = lowRankOptions(config);
  const shared = o.share_gate_up_v === true;
  const force = o.force === true;
  const explicit = o.layer_ranks?.[String(layer)];
  const fallback = o.rank ?? (o.fraction !== undefined ? rankForFraction(o.fraction, d, shared) : undefined);
  const pick = (w: FfnWeight) => explicit?.[w] ?? fallback;
  const ranks = {} as Record<FfnWeight, number>;
  for (const w of ffnWeights) {
    const [m, n] = shared && w !== 'down_proj' ? [2 * d.ffn, d.hidden] : denseShape(w, d);
    ranks[w] = checkRank(`layer ${layer} lowrank rank of ${w}`, pick(w), m, n, force);
  }
  if (shared && ranks.gate_proj !== ranks.up_proj) {
    throw mismatch(`layer ${layer} lowrank ranks`, 'gate_proj and up_proj equal when they share V', `${ranks.gate_proj} and ${ranks.up_proj}`);
  }
  return { ...ranks, shared };
}
