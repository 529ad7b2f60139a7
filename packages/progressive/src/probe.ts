import { forward, tf, type ModelConfig, type Params } from '@efficientscale/core';

/** Logits of a model (core's forward; a 0-layer model is embed → final norm → head). */
export function logitsOf(config: ModelConfig, params: Params, tokens: tf.Tensor2D): tf.Tensor3D {
  return forward(config, params, tokens);
}

/** A fixed batch of token ids (seeded), for measuring function preservation. */
export function probeTokens(config: ModelConfig, batch = 2, seq = 8, seed = 1): tf.Tensor2D {
  const ids = new Int32Array(batch * seq);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = s % config.vocab_size;
  }
  return tf.tensor2d(ids, [batch, seq], 'int32');
}

/** max |logits(a) − logits(b)| on the same tokens. */
export function maxLogitGap(a: { config: ModelConfig; params: Params }, b: { config: ModelConfig; params: Params }, tokens?: tf.Tensor2D): number {
  const probe = tokens ?? probeTokens(a.config);
  const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(logitsOf(a.config, a.params, probe), logitsOf(b.config, b.params, probe)))).dataSync()[0]);
  if (!tokens) probe.dispose();
  return gap;
}
