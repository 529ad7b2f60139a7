import { tf } from '../tf.js';
import { onHost } from '../host.js';
import { mismatch } from '../errors.js';
import type { Dims, ModelConfig } from './config.js';
import type { FfnContext, FfnDeviceMetrics, FfnMetrics } from './ffn-slot.js';
import { modelSpec } from './spec.js';
import { layerPrefix, type Params } from './params.js';
import { embeddingLookup } from './embedding.js';
import { causalSoftmax, rmsNorm, rope } from '../ops/fused.js';
import { ropeTables } from './rope.js';

export interface ForwardResult {
  /** [batch, seq, vocab] */
  logits: tf.Tensor3D;
  /** Sum of the FFN slots' auxiliary losses (0 for dense models). */
  auxLoss: tf.Scalar;
  /** What the FFN slots reported (empty for dense models). */
  ffnMetrics: FfnMetrics;
  /** What they reported still on the device (see FfnOutput.deviceMetrics); the caller disposes them. */
  ffnDeviceMetrics: FfnDeviceMetrics;
}

function attention(x: tf.Tensor2D, p: (s: string) => tf.Tensor, d: Dims, batch: number, seq: number, angles: { cos: tf.Tensor2D; sin: tf.Tensor2D }): tf.Tensor2D {
  const rep = d.heads / d.kvHeads;
  const proj = (name: string, heads: number) =>
    tf.transpose(tf.reshape(tf.matMul(x, p(name) as tf.Tensor2D, false, true), [batch, seq, heads, d.headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = rope(proj('self_attn.q_proj.weight', d.heads), angles.cos, angles.sin);
  const k = rope(proj('self_attn.k_proj.weight', d.kvHeads), angles.cos, angles.sin);
  const v = proj('self_attn.v_proj.weight', d.kvHeads);
  // Grouped-query attention without copying K/V: query head h = kv·rep + r, so [b, heads, seq, hd]
  // regroups as [b, kvHeads, rep·seq, hd] and multiplies each KV head once.
  const qGrouped = tf.reshape(q, [batch, d.kvHeads, rep * seq, d.headDim]);
  const probs = causalSoftmax(tf.matMul(qGrouped, k, false, true), 1 / Math.sqrt(d.headDim));
  const context = tf.matMul(probs, v); // [b, kv, rep·seq, hd]
  const merged = tf.reshape(tf.transpose(tf.reshape(context, [batch, d.heads, seq, d.headDim]), [0, 2, 1, 3]), [batch * seq, d.heads * d.headDim]);
  return tf.matMul(merged, p('self_attn.o_proj.weight') as tf.Tensor2D, false, true);
}

/**
 * A per-layer look at the forward pass: called with each layer's FFN input (the residual stream after the
 * post-attention norm, [batch·seq, hidden]) inside the pass's tidy scope, so a tap that keeps numbers
 * copies them out (dataSync) or keeps the tensor. For whole-model statistics of a transform (k-means
 * router init, activation-aware SVD) without a second copy of the decoder. A tapped pass hands values to
 * host code, so it is host work (host.ts) on a GPU backend.
 */
export type ForwardTap = (layer: number, ffnInput: tf.Tensor2D) => void;

/** A point of the forward pass whose output `trace` sees: the residual stream after each part, then the logits. */
export interface ForwardPoint {
  part: 'embedding' | 'attention' | 'ffn' | 'norm' | 'logits';
  layer?: number;
}

export interface ForwardOptions {
  tap?: ForwardTap;
  /** Called with each part's output, inside the pass's tidy scope (diagnostics: which part went non-finite first). */
  trace?: (point: ForwardPoint, output: tf.Tensor) => void;
}

/** The decoder: tokens [batch, seq] (int32) → logits [batch, seq, vocab], plus the FFN slots' aux loss. */
export function forwardWithAux(config: ModelConfig, params: Params, tokens: tf.Tensor2D, options: ForwardOptions = {}): ForwardResult {
  if (options.tap) return onHost(() => decoder(config, params, tokens, options));
  return decoder(config, params, tokens, options);
}

function decoder(config: ModelConfig, params: Params, tokens: tf.Tensor2D, options: ForwardOptions): ForwardResult {
  const { dims: d, kinds, settings } = modelSpec(config);
  const [batch, seq] = tokens.shape;
  if (tokens.dtype !== 'int32') throw mismatch('input tokens', 'dtype int32', tokens.dtype);
  if (seq > d.maxPositions) throw mismatch('input tokens', `at most max_position_embeddings (${d.maxPositions}) positions`, `${seq}`);
  const need = (name: string) => {
    const t = params[name];
    if (!t) throw mismatch('params', `weight "${name}"`, 'no such weight');
    return t;
  };
  return tf.tidy(() => {
    const angles = ropeTables(config, d, 0, seq);
    let h = embeddingLookup(need('model.embed_tokens.weight') as tf.Tensor2D, tf.reshape(tokens, [batch * seq]) as tf.Tensor1D);
    options.trace?.({ part: 'embedding' }, h);
    let aux: tf.Scalar = tf.scalar(0);
    const ffnMetrics: FfnMetrics = {};
    const ffnDeviceMetrics: FfnDeviceMetrics = {};
    for (let i = 0; i < d.layers; i++) {
      const prefix = layerPrefix(i);
      const p = (suffix: string) => need(prefix + suffix);
      h = tf.add(h, attention(rmsNorm(h, p('input_layernorm.weight'), d.eps), p, d, batch, seq, angles));
      options.trace?.({ part: 'attention', layer: i }, h);
      const ctx: FfnContext = { config, dims: d, layer: i, name: (s) => prefix + s, param: p, settings: settings[i] };
      const ffnInput = rmsNorm(h, p('post_attention_layernorm.weight'), d.eps);
      options.tap?.(i, ffnInput);
      const out = kinds[i].forward(ctx, ffnInput);
      h = tf.add(h, out.y);
      options.trace?.({ part: 'ffn', layer: i }, h);
      if (out.auxLoss) aux = tf.add(aux, out.auxLoss);
      for (const [name, values] of Object.entries(out.metrics ?? {})) (ffnMetrics[name] ??= {})[i] = values;
      for (const [name, t] of Object.entries(out.deviceMetrics ?? {})) (ffnDeviceMetrics[name] ??= {})[i] = t;
    }
    const normed = rmsNorm(h, need('model.norm.weight'), d.eps);
    options.trace?.({ part: 'norm' }, normed);
    const head = d.tied ? need('model.embed_tokens.weight') : need('lm_head.weight');
    const logits = tf.reshape(tf.matMul(normed, head as tf.Tensor2D, false, true), [batch, seq, d.vocab]) as tf.Tensor3D;
    options.trace?.({ part: 'logits' }, logits);
    return { logits, auxLoss: aux, ffnMetrics, ffnDeviceMetrics };
  });
}

/** The decoder: tokens [batch, seq] (int32) → logits [batch, seq, vocab]. */
export function forward(config: ModelConfig, params: Params, tokens: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor3D {
  const { logits, auxLoss, ffnDeviceMetrics } = forwardWithAux(config, params, tokens, options);
  auxLoss.dispose();
  for (const layers of Object.values(ffnDeviceMetrics)) tf.dispose(Object.values(layers));
  return logits;
}
