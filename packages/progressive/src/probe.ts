import { forward, tf, type ModelConfig, type Params } from '@efficientscale/core';
import { growthDims } from './dims.js';

/** Logits of a model; a 0-layer model (not runnable by core's forward) is embed → final norm → head. */
export function logitsOf(config: ModelConfig, params: Params, tokens: tf.Tensor2D): tf.Tensor3D {
  if (config.num_hidden_layers > 0) return forward(config, params, tokens);
  const d = growthDims(config);
  return tf.tidy(() => {
    const [b, s] = tokens.shape;
    const x = tf.gather(params['model.embed_tokens.weight'], tf.reshape(tokens, [b * s])) as tf.Tensor2D;
    const normed = tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), d.eps))), params['model.norm.weight']);
    const head = d.tied ? params['model.embed_tokens.weight'] : params['lm_head.weight'];
    return tf.reshape(tf.matMul(normed, head as tf.Tensor2D, false, true), [b, s, d.vocab]) as tf.Tensor3D;
  });
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
