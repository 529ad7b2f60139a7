/**
 * Where a non-finite result came from. Nothing here runs on the normal path: a caller that finds a NaN or
 * Inf loss or logit (one check of a number it computed anyway) runs this diagnostic pass to name the first
 * weight that holds one, or else the first layer whose output went non-finite.
 */
import { tf } from '../tf.js';
import type { ModelConfig } from './config.js';
import { forwardWithAux, type ForwardPoint } from './forward.js';
import type { Params } from './params.js';

function allFinite(t: tf.Tensor): boolean {
  return tf.tidy(() => tf.all(tf.isFinite(t)).dataSync()[0] === 1);
}

/** "layer 3's FFN (model.layers.3.mlp)", "the embedding (model.embed_tokens)", ... */
export function describePoint(p: ForwardPoint): string {
  switch (p.part) {
    case 'embedding':
      return 'the embedding (model.embed_tokens)';
    case 'attention':
      return `layer ${p.layer}'s attention (model.layers.${p.layer}.self_attn)`;
    case 'ffn':
      return `layer ${p.layer}'s FFN (model.layers.${p.layer}.mlp)`;
    case 'norm':
      return 'the final norm (model.norm)';
    case 'logits':
      return 'the output head (lm_head)';
  }
}

/**
 * What went non-finite first when `tokens` run through the model: a weight holding NaN/Inf, or the first
 * part of the forward pass whose output did. Undefined when the whole pass is finite.
 */
export function locateNonfinite(config: ModelConfig, params: Params, tokens: tf.Tensor2D): string | undefined {
  for (const [name, w] of Object.entries(params)) {
    if (!allFinite(w)) return `weight ${JSON.stringify(name)} holds NaN or Inf`;
  }
  let first: ForwardPoint | undefined;
  tf.tidy(() => {
    forwardWithAux(config, params, tokens, {
      trace: (point, x) => {
        if (first === undefined && !allFinite(x)) first = point;
      },
    });
  });
  return first && `the output of ${describePoint(first)} went non-finite first`;
}
