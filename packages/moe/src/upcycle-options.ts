import { UserError, mismatch, tf } from '@efficientscale/core';

export type RouterInit = 'random' | 'zero' | 'kmeans';

/** What shapes the upcycled model: everything but the tensors a run supplies. */
export interface UpcyclePlanOptions {
  /** Copies of each dense FFN (before fine-graining). */
  experts: number;
  /** Experts per token (before fine-graining). */
  topK: number;
  /** Router weights: N(0, routerStd) rows, zeros, or k-means centroids of each layer's FFN inputs. Default random. */
  routerInit?: RouterInit;
  routerStd?: number;
  /** σ of Gaussian noise added to each expert's copy (breaks exactness on purpose, to diversify experts). */
  noise?: number;
  /** Drop-upcycling: re-initialise this fraction of each expert's intermediate units. */
  dropFraction?: number;
  /** Fine-grained experts: each copy split into g slices of the intermediate size → experts·g experts, topK·g active. */
  granularity?: number;
  /** Which layers become MoE. Default all. */
  layers?: 'all' | 'even' | number[];
  seed?: number;
  /** Start the experts' moments from zero instead of copying the dense ones. */
  resetOptimizer?: boolean;
  /** Load-balancing loss coefficient (Mixtral's `router_aux_loss_coef`). Default: the dense config's, else 0.001. */
  auxLossCoef?: number;
  /** ST-MoE router z-loss coefficient (`efficientscale.ffn_options.moe.router_z_loss_coef`). Default: none (0). */
  zLossCoef?: number;
}

export interface UpcycleOptions extends UpcyclePlanOptions {
  /** int32 tokens [batch, seq] for k-means and for measuring the function-preservation error; default random tokens. */
  calibrationTokens?: tf.Tensor2D;
  /** AdamW state (`m.<name>`, `v.<name>`) of the dense model: experts get copies of their dense weights' moments. */
  optimizer?: Record<string, tf.Tensor>;
}

export interface CheckedOptions {
  experts: number;
  topK: number;
  routerInit: RouterInit;
  routerStd: number;
  noise: number;
  dropFraction: number;
  granularity: number;
  layers: number[];
  seed: number;
  /** Undefined: keep the dense config's coefficient (or 0.001). */
  auxLossCoef?: number;
  /** Undefined: write no z-loss coefficient. */
  zLossCoef?: number;
}

function positiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw mismatch(what, 'an integer >= 1', String(v));
  return v;
}

/** A loss coefficient: absent, or a finite number >= 0. */
function coefficient(what: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw mismatch(what, 'a number >= 0', typeof v === 'string' ? JSON.stringify(v) : String(v));
  return v;
}

/** Checks the options against the dense model (ffn = its intermediate size, kinds = its FFN kinds). */
export function checkOptions(o: UpcyclePlanOptions, ffn: number, kinds: string[]): CheckedOptions {
  const experts = positiveInt('upcycle experts', o.experts);
  const topK = positiveInt('upcycle topK', o.topK);
  if (topK > experts) throw mismatch('upcycle topK', `at most the number of experts (${experts})`, String(topK));
  const routerInit = o.routerInit ?? 'random';
  if (!['random', 'zero', 'kmeans'].includes(routerInit)) throw mismatch('upcycle routerInit', 'random, zero or kmeans', String(routerInit));
  const granularity = positiveInt('upcycle granularity', o.granularity ?? 1);
  if (ffn % granularity !== 0) throw mismatch('upcycle granularity', `a divisor of intermediate_size (${ffn})`, String(granularity));
  const noise = o.noise ?? 0;
  if (!(noise >= 0)) throw mismatch('upcycle noise', 'a number >= 0', String(noise));
  const dropFraction = o.dropFraction ?? 0;
  if (!(dropFraction >= 0 && dropFraction <= 1)) throw mismatch('upcycle dropFraction', 'a number in [0, 1]', String(dropFraction));
  const routerStd = o.routerStd ?? 0.02;
  if (!(routerStd >= 0)) throw mismatch('upcycle routerStd', 'a number >= 0', String(routerStd));
  const auxLossCoef = coefficient('upcycle auxLossCoef', o.auxLossCoef);
  const zLossCoef = coefficient('upcycle zLossCoef', o.zLossCoef);
  if (kinds.length === 0) throw mismatch('upcycle input', 'a model with at least one layer (an FFN to copy into experts)', '0 layers');
  if (kinds.includes('moe')) throw mismatch('upcycle input', 'a dense model', `a model that already has MoE layers (${kinds.map((k, i) => `${i}:${k}`).filter((s) => s.endsWith(':moe')).join(', ')})`);
  const all = kinds.map((_, i) => i);
  const spec = o.layers ?? 'all';
  let layers: number[];
  if (spec === 'all') layers = all;
  else if (spec === 'even') layers = all.filter((i) => i % 2 === 0);
  else if (Array.isArray(spec)) {
    for (const i of spec) if (!Number.isInteger(i) || i < 0 || i >= kinds.length) throw mismatch('upcycle layers', `layer indices in 0..${kinds.length - 1}`, String(i));
    layers = [...new Set(spec)].sort((a, b) => a - b);
    if (layers.length === 0) throw mismatch('upcycle layers', 'at least one layer', 'an empty list');
  } else throw mismatch('upcycle layers', '"all", "even" or a list of layer indices', JSON.stringify(spec));
  for (const i of layers) if (kinds[i] !== 'dense') throw new UserError(`upcycle layers: expected dense layers, found layer ${i} of kind "${kinds[i]}"`);
  return { experts, topK, routerInit, routerStd, noise, dropFraction, granularity, layers, seed: o.seed ?? 0, auxLossCoef, zLossCoef };
}
