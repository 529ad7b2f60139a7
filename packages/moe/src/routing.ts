import { tf } from '@efficientscale/core';
import type { RoutingMode } from './moe-config.js';

/** Indices of the k largest entries of each row of a [tokens, experts] matrix; ties go to the lower index. */
export function topKIndices(logits: Float32Array | number[], tokens: number, experts: number, k: number): Int32Array {
  const out = new Int32Array(tokens * k);
  const order = Array.from({ length: experts }, (_, e) => e);
  for (let t = 0; t < tokens; t++) {
    const row = (e: number) => logits[t * experts + e];
    const sorted = [...order].sort((a, b) => row(b) - row(a) || a - b);
    for (let j = 0; j < k; j++) out[t * k + j] = sorted[j];
  }
  return out;
}

/**
 * Weights of the selected experts, [tokens, k], differentiable in the logits. The selection itself is
 * data-dependent and computed outside the gradient (as in every MoE: the choice has no gradient).
 */
export function routingWeights(logits: tf.Tensor2D, selected: Int32Array, k: number, mode: RoutingMode): tf.Tensor2D {
  return tf.tidy(() => {
    const [tokens, experts] = logits.shape;
    const flatIdx = new Int32Array(tokens * k);
    for (let i = 0; i < flatIdx.length; i++) flatIdx[i] = Math.floor(i / k) * experts + selected[i];
    const idx = tf.tensor1d(flatIdx, 'int32');
    if (mode === 'topk-softmax') {
      const picked = tf.reshape(tf.gather(tf.reshape(logits, [-1]), idx), [tokens, k]);
      return tf.softmax(picked) as tf.Tensor2D;
    }
    const probs = tf.softmax(logits);
    return tf.reshape(tf.gather(tf.reshape(probs, [-1]), idx), [tokens, k]) as tf.Tensor2D;
  });
}

/**
 * Switch Transformer load-balancing loss as Mixtral computes it for one layer: E · Σ_i f_i · P_i, where
 * f_i = (times expert i was selected) / tokens (so Σ f_i = k) and P_i = mean softmax probability of i.
 * Not yet multiplied by the coefficient.
 */
export function loadBalancingLoss(logits: tf.Tensor2D, selected: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    const [tokens, experts] = logits.shape;
    const counts = new Float32Array(experts);
    for (const e of selected) counts[e] += 1 / tokens;
    const meanProb = tf.mean(tf.softmax(logits), 0);
    return tf.mul(experts, tf.sum(tf.mul(tf.tensor1d(counts), meanProb))) as tf.Scalar;
  });
}

/** Router z-loss (ST-MoE): mean over tokens of logsumexp(logits)². */
export function routerZLoss(logits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.logSumExp(logits, 1))) as tf.Scalar);
}
