import { tf } from '../tf.js';
import { dimsOf, type ModelConfig } from './config.js';
import { forward } from './forward.js';
import type { Params } from './params.js';
import { createRng } from '../data/rng.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** Sample among the k most likely tokens (0 = all). */
  topK: number;
  seed: number;
}

/** Samples a continuation of `prompt`, one token at a time over the last max_position_embeddings tokens. */
export function generate(config: ModelConfig, params: Params, prompt: ArrayLike<number>, o: GenerateOptions): number[] {
  const d = dimsOf(config);
  const rng = createRng(o.seed);
  const ids = Array.from(prompt);
  for (let n = 0; n < o.maxNewTokens; n++) {
    const window = ids.slice(-d.maxPositions);
    const last = tf.tidy(() => {
      const logits = forward(config, params, tf.tensor2d(window, [1, window.length], 'int32'));
      return tf.slice(logits, [0, window.length - 1, 0], [1, 1, d.vocab]).dataSync() as Float32Array;
    });
    ids.push(pick(last, o, rng.nextFloat()));
  }
  return ids.slice(prompt.length);
}

function pick(logits: Float32Array, o: GenerateOptions, u: number): number {
  const order = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  if (o.temperature <= 0) return order[0];
  const candidates = o.topK > 0 ? order.slice(0, o.topK) : order;
  const max = logits[candidates[0]];
  const weights = candidates.map((i) => Math.exp((logits[i] - max) / o.temperature));
  let r = u * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < candidates.length; i++) {
    r -= weights[i];
    if (r <= 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}
