import { dimsOf, mismatch, type ModelConfig } from '@efficientscale/core';
import type { LowRankOptions } from './options.js';

export interface LowRankConfigOptions extends LowRankOptions {
  /** Keep layer 0's FFN dense (default true): the first layer is the most sensitive to factorisation. */
  keepFirstDense?: boolean;
}

/** A copy of `config` whose FFNs are `lowrank` (all but layer 0 unless keepFirstDense is false). */
export function lowrankConfig(config: ModelConfig, options: LowRankConfigOptions): ModelConfig {
  const d = dimsOf(config);
  const { keepFirstDense = true, ...kindOptions } = options;
  if (keepFirstDense && d.layers < 2) throw mismatch('keepFirstDense', 'a model of at least 2 layers', `${d.layers} layer`);
  const es = config.efficientscale ?? {};
  const kinds = Array.from({ length: d.layers }, (_, i) => (keepFirstDense && i === 0 ? 'dense' : 'lowrank'));
  const clean = Object.fromEntries(Object.entries(kindOptions).filter(([, v]) => v !== undefined));
  return { ...config, efficientscale: { ...es, ffn_kinds: kinds, ffn_options: { ...es.ffn_options, lowrank: clean } } };
}
