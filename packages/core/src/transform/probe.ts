/** How far a transform moved the function: logits before and after on the same tokens. */
import { tf } from '../tf.js';
import { onHost } from '../host.js';
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

type Model = { config: ModelConfig; params: Params };

/** max |Δlogits|, ‖Δlogits‖², ‖logits before‖² as scalars on the backend (the caller reads and disposes them). */
function gapScalars(before: Model, after: Model, probe: tf.Tensor2D): tf.Scalar[] {
  return tf.tidy(() => {
    const a = forward(before.config, before.params, probe);
    const diff = tf.sub(forward(after.config, after.params, probe), a);
    return [tf.max(tf.abs(diff)), tf.sum(tf.square(diff)), tf.sum(tf.square(a))] as tf.Scalar[];
  });
}

const gapOf = ([max, diff2, before2]: number[]): LogitGap => ({ maxAbsLogitDiff: max, relativeLogitDiff: Math.sqrt(diff2) / Math.sqrt(before2) });

/** The logit gap between two models on `tokens` (default: probeTokens of the first); host work (host.ts). */
export function logitGap(before: Model, after: Model, tokens?: tf.Tensor2D): LogitGap {
  return onHost(() => gapOnHost(before, after, tokens));
}

function gapOnHost(before: Model, after: Model, tokens?: tf.Tensor2D): LogitGap {
  const probe = tokens ?? probeTokens(before.config);
  try {
    const scalars = gapScalars(before, after, probe);
    const values = scalars.map((t) => t.dataSync()[0]);
    tf.dispose(scalars);
    return gapOf(values);
  } finally {
    if (!tokens) probe.dispose();
  }
}

/** logitGap read without blocking (webgpu: no synchronous read from the GPU). */
export async function logitGapAsync(before: Model, after: Model, tokens?: tf.Tensor2D): Promise<LogitGap> {
  const probe = tokens ?? probeTokens(before.config);
  try {
    const scalars = gapScalars(before, after, probe);
    const values = await Promise.all(scalars.map(async (t) => (await t.data())[0]));
    tf.dispose(scalars);
    return gapOf(values);
  } finally {
    if (!tokens) probe.dispose();
  }
}
