/**
 * How much memory a training step needs at its peak, estimated from the shapes before anything is
 * allocated, so that a run too large for the machine is refused in one line instead of swapping or
 * being killed. The coefficients are a least-squares fit to the peak RSS of one training step plus one
 * evaluation, measured on the native backend for nine shapes that each stress one term (weights,
 * logits, hidden and FFN activations, attention scores): every one within 3% (README "Memory").
 */
import { dimsOf, type ModelConfig } from './config.js';
import { countParams } from './params.js';

const FLOAT = 4;
/** Float32 copies per parameter: the weights, their gradients, AdamW's two moments, one transient update copy. */
const PER_PARAM = 5;
/** Copies of the [tokens, vocab] logits alive at the peak (logits, log-softmax, one-hot targets, gradients). */
const PER_LOGIT = 4.1;
/** Floats per token per layer kept for the backward pass, per unit of hidden size and of FFN width. */
const PER_HIDDEN = 33.6;
const PER_FFN = 6;
/** Copies of the [batch, heads, seq, seq] attention scores per layer (scores, probabilities, gradient). */
const PER_SCORE = 3;
/** Node, tfjs and the process around them before any tensor (measured: 86–98 MB). */
export const PROCESS_BYTES = 96 * 2 ** 20;

export interface MemoryEstimate {
  /** Everything at the peak, the process included. */
  total: number;
  /** Weights, gradients and AdamW moments. */
  weights: number;
  /** Activations kept for the backward pass, logits included. */
  activations: number;
}

/** Peak bytes of training `config` on micro-batches of `batchSize` × `seqLen` tokens. */
export function trainingMemory(config: ModelConfig, batchSize: number, seqLen: number): MemoryEstimate {
  const d = dimsOf(config);
  const tokens = batchSize * seqLen;
  // An MoE layer runs its top-k experts per token: their FFN activations are what the token keeps.
  const active = Number((config as { num_experts_per_tok?: unknown }).num_experts_per_tok) || 1;
  const weights = FLOAT * PER_PARAM * countParams(config);
  const perLayer = tokens * (PER_HIDDEN * d.hidden + PER_FFN * d.ffn * active) + PER_SCORE * batchSize * d.heads * seqLen * seqLen;
  const activations = FLOAT * (PER_LOGIT * tokens * d.vocab + d.layers * perLayer);
  return { total: PROCESS_BYTES + weights + activations, weights, activations };
}

/** `12.3 GiB`, `840 MiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}
