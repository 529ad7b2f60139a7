/** How far a transform moved the function: logits before and after on the same tokens. */
import { tf } from '../tf.js';
import { createRng } from '../data/rng.js';
import type { ModelConfig } from '../model/config.js';
import { forward } from '../model/forward.js';
import type { Params } from '../model/params.js';

export interface LogitGap {
  /** max |logits after − logits before|. */
  maxAbsLogitDiff: number;
  /** ‖Δlogits‖_F / ‖logits before‖_F. */
  relativeLogitDiff: number;
}

/** A fixed batch of token ids [batch, seq] from the project's seeded generator. */
export function probeTokens(config: ModelConfig, batch = 2, seq = 16, seed = 1): tf.Tensor2D {
  const rng = createRng(seed, 'probe-tokens');
  const length = Math.min(seq, config.max_position_embeddings ?? 2048);
  const ids = Int32Array.from({ length: batch * length }, () => rng.nextInt(config.vocab_size));
  return tf.tensor2d(ids, [batch, length], 'int32');
}

/** The logit gap between two models on `tokens` (default: probeTokens of the first). */
export function logitGap(before: { config: ModelConfig; params: Params }, after: { config: ModelConfig; params: Params }, tokens?: tf.Tensor2D): LogitGap {
  const probe = tokens ?? probeTokens(before.config);
  try {
    return tf.tidy(() => {
      const a = forward(before.config, before.params, probe);
      const diff = tf.sub(forward(after.config, after.params, probe), a);
      const norm = (t: tf.Tensor) => Math.sqrt(tf.sum(tf.square(t)).dataSync()[0]);
      return { maxAbsLogitDiff: tf.max(tf.abs(diff)).dataSync()[0], relativeLogitDiff: norm(diff) / norm(a) };
    });
  } finally {
    if (!tokens) probe.dispose();
  }
}
