/**
 * Incremental decoding with a key/value cache: each layer keeps the rotated keys and the values of the
 * positions seen so far, so a new token costs one row of attention instead of re-running the whole prefix.
 * Same weights, same RoPE tables and the same FFN slots as forward(), batch 1.
 */
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import type { Dims, ModelConfig } from './config.js';
import type { FfnContext } from './ffn-slot.js';
import { modelSpec } from './spec.js';
import { layerPrefix, type Params } from './params.js';
import { rmsNorm, rope } from '../ops/fused.js';
import { ropeTables } from './rope.js';

export class KvCache {
  /** Per layer: [1, kvHeads, length, headDim]. */
  private keys: tf.Tensor4D[] = [];
  private values: tf.Tensor4D[] = [];
  length = 0;

  /** Appends this step's keys and values of `layer` and returns the whole cache of that layer. */
  append(layer: number, k: tf.Tensor4D, v: tf.Tensor4D): { k: tf.Tensor4D; v: tf.Tensor4D } {
    const oldK = this.keys[layer];
    const oldV = this.values[layer];
    this.keys[layer] = tf.keep(oldK ? (tf.concat([oldK, k], 2) as tf.Tensor4D) : k);
    this.values[layer] = tf.keep(oldV ? (tf.concat([oldV, v], 2) as tf.Tensor4D) : v);
    if (oldK) tf.dispose([oldK, oldV]);
    return { k: this.keys[layer], v: this.values[layer] };
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.length = 0;
  }
}

/** Additive mask: grouped query row r·n + i (position past + i) sees keys 0..past + i. */
function offsetCausalMask(rep: number, n: number, past: number): tf.Tensor2D {
  const total = past + n;
  const mask = new Float32Array(rep * n * total);
  for (let row = 0; row < rep * n; row++) for (let j = past + (row % n) + 1; j < total; j++) mask[row * total + j] = -1e9;
  return tf.tensor2d(mask, [rep * n, total]);
}

function cachedAttention(x: tf.Tensor2D, p: (s: string) => tf.Tensor, d: Dims, cache: KvCache, layer: number, angles: { cos: tf.Tensor2D; sin: tf.Tensor2D }): tf.Tensor2D {
  const n = x.shape[0];
  const rep = d.heads / d.kvHeads;
  const proj = (name: string, heads: number) =>
    tf.transpose(tf.reshape(tf.matMul(x, p(name) as tf.Tensor2D, false, true), [1, n, heads, d.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = rope(proj('self_attn.q_proj.weight', d.heads), angles.cos, angles.sin);
  const { k, v } = cache.append(layer, rope(proj('self_attn.k_proj.weight', d.kvHeads), angles.cos, angles.sin), proj('self_attn.v_proj.weight', d.kvHeads));
  // Query head h = kv·rep + r, as in forward(): each KV head multiplies its rep query heads at once.
  const qGrouped = tf.reshape(q, [1, d.kvHeads, rep * n, d.headDim]);
  let scores = tf.mul(tf.matMul(qGrouped, k, false, true), 1 / Math.sqrt(d.headDim));
  if (n > 1) scores = tf.add(scores, offsetCausalMask(rep, n, cache.length));
  const context = tf.matMul(tf.softmax(scores), v);
  const merged = tf.reshape(tf.transpose(tf.reshape(context, [1, d.heads, n, d.headDim]), [0, 2, 1, 3]), [n, d.heads * d.headDim]);
  return tf.matMul(merged, p('self_attn.o_proj.weight') as tf.Tensor2D, false, true);
}

/**
 * Runs `tokens` (the positions after the cached ones) through the decoder, extends the cache, and
 * returns the logits of the last token (read asynchronously). A prompt is one call (prefill); each new token one more.
 */
export async function decodeStep(config: ModelConfig, params: Params, cache: KvCache, tokens: number[]): Promise<Float32Array> {
  const { dims: d, kinds, settings } = modelSpec(config);
  const n = tokens.length;
  if (n === 0) throw mismatch('decodeStep tokens', 'at least one token', 'none');
  if (cache.length + n > d.maxPositions) {
    throw mismatch('cached positions', `at most max_position_embeddings (${d.maxPositions})`, String(cache.length + n));
  }
  const need = (name: string) => {
    const t = params[name];
    if (!t) throw mismatch('params', `weight "${name}"`, 'no such weight');
    return t;
  };
  const logits = tf.tidy(() => {
    const angles = ropeTables(config, d, cache.length, n);
    let h = tf.gather(need('model.embed_tokens.weight') as tf.Tensor2D, tf.tensor1d(tokens, 'int32')) as tf.Tensor2D;
    for (let i = 0; i < d.layers; i++) {
      const prefix = layerPrefix(i);
      const p = (suffix: string) => need(prefix + suffix);
      h = tf.add(h, cachedAttention(rmsNorm(h, p('input_layernorm.weight'), d.eps), p, d, cache, i, angles));
      const ctx: FfnContext = { config, dims: d, layer: i, name: (s) => prefix + s, param: p, settings: settings[i] };
      h = tf.add(h, kinds[i].forward(ctx, rmsNorm(h, p('post_attention_layernorm.weight'), d.eps)).y);
    }
    const last = rmsNorm(tf.slice(h, [n - 1, 0], [1, d.hidden]), need('model.norm.weight'), d.eps);
    const head = d.tied ? need('model.embed_tokens.weight') : need('lm_head.weight');
    return tf.matMul(last, head as tf.Tensor2D, false, true);
  });
  cache.length += n;
  try {
    return (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
  }
}
