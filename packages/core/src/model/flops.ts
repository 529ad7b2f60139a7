import type { ModelConfig } from './config.js';
import { modelSpec } from './spec.js';

export interface FlopCount {
  /** Parameters that take part in matrix products for one token (embedding lookup excluded, LM head included). */
  activeMatmulParams: number;
  /** Forward FLOPs per token: 2 per multiply-accumulate, plus attention scores and mixing. */
  forwardPerToken: number;
  /** Training FLOPs per token: forward + backward ≈ 3 × forward. */
  trainPerToken: number;
}

/**
 * FLOPs per token at a given context length, counted from the parameters that actually run (an MoE
 * layer counts only its active experts). Attention counts 2·seq·(heads·headDim) for QKᵀ and the same
 * again for the weighted sum of values, per layer, without halving for the causal mask (as Chinchilla's
 * appendix F counts it).
 */
export function flopsPerToken(config: ModelConfig, seqLen: number): FlopCount {
  const { dims: d, kinds } = modelSpec(config);
  const attnWidth = d.heads * d.headDim;
  let active = d.vocab * d.hidden; // LM head
  let attentionFlops = 0;
  for (let i = 0; i < d.layers; i++) {
    active += d.hidden * attnWidth * 2 + d.hidden * d.kvHeads * d.headDim * 2;
    active += kinds[i].activeParamsPerToken(config, d, i);
    attentionFlops += 4 * seqLen * attnWidth;
  }
  const forwardPerToken = 2 * active + attentionFlops;
  return { activeMatmulParams: active, forwardPerToken, trainPerToken: 3 * forwardPerToken };
}
