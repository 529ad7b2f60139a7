import { mismatch, type Dims, type ModelConfig } from '@efficientscale/core';

/** How the router turns logits into weights. */
export type RoutingMode =
  /** Mixtral: softmax over the k selected logits (= softmax over all, top-k, renormalise). */
  | 'topk-softmax'
  /** Switch / DeepSeek: softmax over all experts, keep the k largest, no renormalising. */
  | 'softmax-topk';

/** Everything an MoE layer needs, read once from the config. */
export interface MoeSettings {
  experts: number;
  topK: number;
  /** Intermediate size of one routed expert. */
  expertFfn: number;
  auxLossCoef: number;
  zLossCoef: number;
  routing: RoutingMode;
  /** Intermediate size of the always-on shared expert; 0 = none. */
  sharedFfn: number;
  /** Each expert takes at most ⌈capacityFactor · tokens · k / E⌉ assignments; 0 = no limit (no token dropped). */
  capacityFactor: number;
}

function posInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw mismatch(what, 'a positive integer', JSON.stringify(v));
  return v;
}

function nonNegative(what: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0)) throw mismatch(what, 'a number >= 0', JSON.stringify(v));
  return v;
}

/**
 * Mixtral's fields (`num_local_experts`, `num_experts_per_tok`, `router_aux_loss_coef`) plus our options
 * under `efficientscale.ffn_options.moe`: `routing`, `shared_expert_intermediate_size`,
 * `router_z_loss_coef`, `capacity_factor`, `expert_intermediate_size` (for mixed dense/MoE models whose experts are narrower
 * than the dense layers' `intermediate_size`).
 */
export function moeSettings(config: ModelConfig, dims: Dims): MoeSettings {
  const o = (config.efficientscale?.ffn_options?.moe ?? {}) as Record<string, unknown>;
  const experts = posInt('"num_local_experts"', config.num_local_experts);
  const topK = posInt('"num_experts_per_tok"', config.num_experts_per_tok);
  if (topK > experts) throw mismatch('"num_experts_per_tok"', `at most num_local_experts (${experts})`, String(topK));
  const routing = (o.routing ?? 'topk-softmax') as RoutingMode;
  if (routing !== 'topk-softmax' && routing !== 'softmax-topk') {
    throw mismatch('"efficientscale.ffn_options.moe.routing"', '"topk-softmax" or "softmax-topk"', JSON.stringify(routing));
  }
  return {
    experts,
    topK,
    expertFfn: o.expert_intermediate_size === undefined ? dims.ffn : posInt('"efficientscale.ffn_options.moe.expert_intermediate_size"', o.expert_intermediate_size),
    auxLossCoef: nonNegative('"router_aux_loss_coef"', config.router_aux_loss_coef ?? 0.001),
    zLossCoef: nonNegative('"efficientscale.ffn_options.moe.router_z_loss_coef"', o.router_z_loss_coef ?? 0),
    routing,
    sharedFfn: o.shared_expert_intermediate_size === undefined ? 0 : posInt('"efficientscale.ffn_options.moe.shared_expert_intermediate_size"', o.shared_expert_intermediate_size),
    capacityFactor: nonNegative('"efficientscale.ffn_options.moe.capacity_factor"', o.capacity_factor ?? 0),
  };
}

export const routerWeight = 'block_sparse_moe.gate.weight';
export const expertWeight = (e: number, w: 'w1' | 'w2' | 'w3') => `block_sparse_moe.experts.${e}.${w}.weight`;
export const sharedWeight = (w: 'w1' | 'w2' | 'w3') => `block_sparse_moe.shared_expert.${w}.weight`;
