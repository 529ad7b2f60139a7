import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { dimsOf, llamaConfig, type ModelConfig } from './config.js';
import { ropeInverseFrequencies, ropeScalingOf } from './rope.js';

// head_dim 8, theta 10000: default inv_freq = 10000^(-2j/8) = [1, 0.1, 0.01, 0.001].
const base = (extra: Partial<ModelConfig>): ModelConfig => ({ ...llamaConfig({ vocab: 16, hidden: 16, ffn: 24, layers: 1, heads: 2 }), ...extra });
const llama3 = { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 64 };

/**
 * transformers' _compute_llama3_parameters by hand for these numbers: wavelen = 2π/inv_freq =
 * [6.283, 62.83, 628.3, 6283]; low_freq_wavelen = 64/1 = 64, high_freq_wavelen = 64/4 = 16.
 *   j=0: 6.283 < 16 → unchanged 1
 *   j=1: 16 ≤ 62.83 ≤ 64 → smooth = (64/62.83 − 1)/(4 − 1) = 0.006198; (1 − smooth)·0.1/8 + smooth·0.1 = 0.013042
 *   j=2, 3: wavelen > 64 → divided by 8: 0.00125, 0.000125
 */
const handComputed = [1, 0.0130422, 0.00125, 0.000125];

describe('RoPE frequencies', () => {
  it('default: base^(-2j/headDim), from rope_theta or rope_parameters', () => {
    const a = base({ rope_parameters: undefined, rope_theta: 10000 });
    const b = base({ rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 10000 } });
    for (const c of [a, b]) {
      const f = Array.from(ropeInverseFrequencies(c, dimsOf(c)));
      f.forEach((v, j) => expect(v).toBeCloseTo([1, 0.1, 0.01, 0.001][j], 7));
    }
  });

  it('llama3 scaling matches a hand computation of transformers\' formula (rope_scaling and rope_parameters)', () => {
    const v4 = base({ rope_parameters: undefined, rope_scaling: llama3 });
    const v5 = base({ rope_theta: undefined, rope_parameters: { ...llama3, rope_theta: 10000 } });
    for (const c of [v4, v5]) {
      expect(ropeScalingOf(c).type).toBe('llama3');
      const f = ropeInverseFrequencies(c, dimsOf(c));
      for (let j = 0; j < 4; j++) expect(Math.abs(f[j] - handComputed[j]) / handComputed[j]).toBeLessThan(1e-5);
    }
  });

  it('linear scaling divides every frequency; the pre-4.45 "type" key is read too', () => {
    const c = base({ rope_parameters: undefined, rope_scaling: { type: 'linear', factor: 4 } });
    expect(Array.from(ropeInverseFrequencies(c, dimsOf(c)))[1]).toBeCloseTo(0.025, 7);
  });

  it('refuses RoPE variants it does not implement and incomplete llama3 parameters, with the field', () => {
    expect(() => dimsOf(base({ rope_parameters: { rope_type: 'yarn', rope_theta: 10000, factor: 4 } }))).toThrow(/rope_parameters\.rope_type.*"yarn"/);
    const missing = { ...llama3, low_freq_factor: undefined };
    expect(() => dimsOf(base({ rope_parameters: undefined, rope_scaling: missing }))).toThrow(UserError);
    expect(() => dimsOf(base({ rope_parameters: undefined, rope_scaling: missing }))).toThrow(/rope_scaling\.low_freq_factor/);
  });
});
