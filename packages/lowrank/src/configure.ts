import { dimsOf, mismatch, withFfnKinds, withFfnOptions, type ModelConfig } from '@efficientscale/core';
import { ffnWeights, rankForFraction, type FfnWeight, type LowRankOptions } from './options.js';

export interface LowRankConfigOptions extends LowRankOptions {
  /** Keep layer 0's FFN dense (default true): the first layer is the most sensitive to factorisation. */
  keepFirstDense?: boolean;
}

/**
 * A copy of `config` whose FFNs are `lowrank` (all but layer 0 unless keepFirstDense is false). A `rank` or
 * `fraction` is resolved into each layer's ranks (`layer_ranks`), so the config says what it trains.
 */
export function lowrankConfig(config: ModelConfig, options: LowRankConfigOptions): ModelConfig {
  const d = dimsOf(config);
  const { keepFirstDense = true, rank, fraction, ...kindOptions } = options;
  if (keepFirstDense && d.layers < 2) throw mismatch('keepFirstDense', 'a model of at least 2 layers', `${d.layers} layer`);
  const kinds = Array.from({ length: d.layers }, (_, i) => (keepFirstDense && i === 0 ? 'dense' : 'lowrank'));
  const clean: Record<string, unknown> = Object.fromEntries(Object.entries(kindOptions).filter(([, v]) => v !== undefined));
  const uniform = rank ?? (fraction !== undefined ? rankForFraction(fraction, d, kindOptions.share_gate_up_v === true) : undefined);
  if (uniform !== undefined) {
    const ranks = Object.fromEntries(ffnWeights.map((w) => [w, uniform])) as Record<FfnWeight, number>;
    clean.layer_ranks = { ...Object.fromEntries(kinds.flatMap((k, i) => (k === 'lowrank' ? [[String(i), ranks]] : []))), ...kindOptions.layer_ranks };
  }
  return withFfnOptions(withFfnKinds(config, kinds), 'lowrank', clean);
}
