import { forward, tf, type ModelConfig, type Params } from '@efficientscale/core';

/** The input of every layer's FFN (hidden states after the post-attention norm) on a batch, from core's forward tap. */
export function ffnInputs(config: ModelConfig, params: Params, tokens: tf.Tensor2D): Float32Array[] {
  const states: Float32Array[] = [];
  tf.dispose(forward(config, params, tokens, { tap: (layer, x) => (states[layer] = x.dataSync() as Float32Array) }));
  return states;
}
