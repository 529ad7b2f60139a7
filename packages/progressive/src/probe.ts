import { forward, logitGap, probeTokens as coreProbeTokens, type ModelConfig, type Params, type tf } from '@efficientscale/core';

/** Logits of a model (core's forward; a 0-layer model is embed → final norm → head). */
export function logitsOf(config: ModelConfig, params: Params, tokens: tf.Tensor2D): tf.Tensor3D {
  return forward(config, params, tokens);
}

/** A fixed batch of token ids (core's seeded probe batch), for measuring function preservation. */
export function probeTokens(config: ModelConfig, batch = 2, seq = 16, seed = 1): tf.Tensor2D {
  return coreProbeTokens(config, batch, seq, seed);
}

/** max |logits(a) − logits(b)| on the same tokens. */
export function maxLogitGap(a: { config: ModelConfig; params: Params }, b: { config: ModelConfig; params: Params }, tokens?: tf.Tensor2D): number {
  const probe = tokens ?? probeTokens(a.config);
  try {
    return logitGap(a, b, probe).maxAbsLogitDiff;
  } finally {
    if (!tokens) probe.dispose();
  }
}

