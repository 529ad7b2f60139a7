import { mismatch, ffnKinds, type ModelConfig, type Params } from '@efficientscale/core';

/** Growth rewrites SwiGLU weights by name; other FFN kinds (moe, lowrank) are refused, not mangled. */
export function requireDense(config: ModelConfig): void {
  if (config.num_hidden_layers === 0) return;
  const kinds = ffnKinds(config);
  const other = kinds.findIndex((k) => k !== 'dense');
  if (other >= 0) throw mismatch(`layer ${other} FFN kind`, '"dense" (growth of other FFN kinds is not supported)', JSON.stringify(kinds[other]));
}

export const sizeOf = (params: Params): number => Object.values(params).reduce((n, t) => n + t.size, 0);

export const ATTENTION = ['input_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight', 'self_attn.o_proj.weight', 'post_attention_layernorm.weight'];
export const FFN = ['mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight'];
export const LAYER_WEIGHTS = [...ATTENTION, ...FFN];
