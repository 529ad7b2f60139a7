import { tf } from '../tf.js';
import { mismatch, type UserError } from '../errors.js';
import { onHost, prefetchToHost } from '../host.js';
import { locateNonfinite } from './diagnose.js';
import { dimsOf, type ModelConfig } from './config.js';
import { forward } from './forward.js';
import type { Params } from './params.js';
import { createRng } from '../data/rng.js';
import { KvCache, decodeStep } from './kv-cache.js';
import { checkSampling, pickToken, type SamplingOptions } from './sampling.js';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /** Reuse each position's keys and values (default true); false re-runs the whole window per token. */
  cache?: boolean;
  /** Sample only ids below this (a tokenizer smaller than the model's padded vocabulary cannot decode the rest). */
  vocabLimit?: number;
  /** Stop after any of these tokens (e.g. the config's eos_token_id). */
  stopTokens?: number[];
  /** Called with each new token as soon as it is sampled (to show text as it is generated). */
  onToken?: (id: number) => void;
}

/** Logits of the last position, running the whole window (the last max_position_embeddings tokens). */
async function windowLogits(config: ModelConfig, params: Params, window: number[], vocab: number): Promise<Float32Array> {
  const last = tf.tidy(() => {
    const logits = forward(config, params, tf.tensor2d(window, [1, window.length], 'int32'));
    return tf.slice(logits, [0, window.length - 1, 0], [1, 1, vocab]);
  });
  try {
    return (await last.data()) as Float32Array;
  } finally {
    last.dispose();
  }
}

/** The config's eos_token_id (a number or a list, as transformers allows), as a list. */
export function eosTokens(config: ModelConfig): number[] {
  const eos = config.eos_token_id;
  const list = Array.isArray(eos) ? eos : [eos];
  return list.filter((t): t is number => Number.isInteger(t));
}

/** The error for non-finite logits, naming what went non-finite first on the window that gave them (host work: it reads the weights). */
async function nonfiniteLogits(config: ModelConfig, params: Params, window: number[]): Promise<UserError> {
  await prefetchToHost(Object.values(params));
  return onHost(() => {
    const tokens = tf.tensor2d(window, [1, window.length], 'int32');
    try {
      const where = locateNonfinite(config, params, tokens);
      return mismatch('next-token logits', 'finite numbers', `NaN or Inf${where ? ` (${where})` : ''}`);
    } finally {
      tokens.dispose();
    }
  });
}

/**
 * Samples a continuation of `prompt`, one token at a time. With the cache, the prompt is run once and each
 * new token costs one position; past max_position_embeddings both modes slide a window over the last
 * max_position_embeddings tokens (re-running it, as positions then shift), so their outputs agree. Each
 * token's logits are read asynchronously (a GPU backend is never read synchronously).
 */
export async function generate(config: ModelConfig, params: Params, prompt: ArrayLike<number>, o: GenerateOptions): Promise<number[]> {
  checkSampling(o);
  if (prompt.length === 0) throw mismatch('prompt', 'at least one token to continue', 'an empty prompt');
  const d = dimsOf(config);
  const rng = createRng(o.seed);
  const ids = Array.from(prompt);
  const cache = o.cache === false ? undefined : new KvCache();
  try {
    for (let n = 0; n < o.maxNewTokens; n++) {
      let logits: Float32Array;
      if (cache && ids.length <= d.maxPositions && ids.length > 0) {
        logits = await decodeStep(config, params, cache, ids.slice(cache.length));
      } else {
        cache?.dispose();
        logits = await windowLogits(config, params, ids.slice(-d.maxPositions), d.vocab);
      }
      const usable = o.vocabLimit !== undefined && o.vocabLimit < logits.length ? logits.subarray(0, o.vocabLimit) : logits;
      if (!usable.every(Number.isFinite)) throw await nonfiniteLogits(config, params, ids.slice(-d.maxPositions));
      const next = pickToken(usable, o, rng.nextFloat());
      ids.push(next);
      o.onToken?.(next);
      if (o.stopTokens?.includes(next)) break;
    }
  } finally {
    cache?.dispose();
  }
  return ids.slice(prompt.length);
}
