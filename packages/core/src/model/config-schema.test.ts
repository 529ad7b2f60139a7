import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { llamaConfig, validateConfig, type ModelConfig } from './config.js';
import { paramShapes } from './params.js';

const base = () => llamaConfig({ vocab: 32, hidden: 16, ffn: 32, layers: 2, heads: 2 });
const refusal = (config: unknown): string => {
  try {
    validateConfig(config, 'config.json');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('config was accepted');
};

describe('config schema', () => {
  it('names the field, what was expected and what was found', () => {
    expect(refusal({ ...base(), vocab_size: '32' })).toBe('config.json: "vocab_size": expected a positive integer, found "32"');
    expect(refusal({ ...base(), hidden_size: 0 })).toBe('config.json: "hidden_size": expected a positive integer, found 0');
    expect(refusal({ ...base(), hidden_size: 1.5 })).toBe('config.json: "hidden_size": expected a positive integer, found 1.5');
    expect(refusal({ ...base(), rope_theta: -1 })).toBe('config.json: "rope_theta": expected a finite number of at least 1 (the RoPE base), found -1');
    expect(refusal({ ...base(), rope_parameters: undefined, rope_theta: 5e-324 })).toMatch(/"rope_theta": expected a finite number of at least 1/);
    expect(refusal({ ...base(), efficientscale: { ffn_kinds: 3 } })).toBe('config.json: "efficientscale.ffn_kinds": expected an array, found 3');
    const missing: Record<string, unknown> = base();
    delete missing.num_hidden_layers;
    expect(refusal(missing)).toBe('config.json: "num_hidden_layers": expected a non-negative integer, found nothing (missing)');
    expect(refusal({ ...base(), num_hidden_layers: -1 })).toBe('config.json: "num_hidden_layers": expected a non-negative integer, found -1');
    expect(refusal([1])).toBe('config.json: config: expected a JSON object, found an array');
  });

  it('bounds sizes before anything allocates, with the figure in the message', () => {
    expect(refusal({ ...base(), num_hidden_layers: 1e9 })).toBe('config.json: "num_hidden_layers": expected a non-negative integer of at most 1024, found 1000000000');
    expect(refusal({ ...base(), vocab_size: 2 ** 24, hidden_size: 2 ** 10, head_dim: 8 })).toMatch(/embedding.*at most 2,147,483,647 elements per tensor, found \[16777216,1024\]/);
    expect(refusal({ ...base(), vocab_size: 2 ** 20, hidden_size: 2 ** 10, head_dim: 512, intermediate_size: 2 ** 20, num_hidden_layers: 2 })).toMatch(/model size: expected at most 4,294,967,296 parameters/);
  });

  it('passes unknown keys (MoE, technique options) through untouched', () => {
    const config: ModelConfig = { ...base(), num_local_experts: 'anything', router_aux_loss_coef: 0.01, efficientscale: { lowrank: { rank: 4 }, extra: [1] } };
    expect(validateConfig(config, 'config.json')).toBe(config);
    expect(Object.keys(paramShapes(config))).toContain('model.embed_tokens.weight');
  });

  it('refuses a RoPE base that transformers 4 and 5 would read differently', () => {
    expect(refusal({ ...base(), rope_theta: 10000, rope_parameters: { rope_type: 'default', rope_theta: 500000 } })).toBe(
      'config.json: "rope_parameters.rope_theta": expected the same base as "rope_theta" (10000), found 500000',
    );
    expect(() => validateConfig({ ...base(), rope_theta: null, rope_parameters: { rope_type: 'default', rope_theta: 500000 } }, 'config.json')).not.toThrow();
    expect(refusal({ ...base(), rope_scaling: { type: 'linear', factor: 2 } })).toBe('config.json: "rope_scaling": expected the same RoPE kind as "rope_parameters" ("default"), found "linear"');
    expect(() => validateConfig({ ...base(), rope_scaling: { rope_type: 'default' } }, 'config.json')).not.toThrow();
  });

  it('accepts null for optional fields, as transformers writes them', () => {
    expect(() => validateConfig({ ...base(), head_dim: null, num_key_value_heads: null, rope_scaling: null }, 'config.json')).not.toThrow();
  });
});
