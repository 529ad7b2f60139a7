import { tf } from '@efficientscale/core';

/**
 * silu(gate) · up. core's fused swiglu kernel is not exported, so this is the stock-op form (same values,
 * differentiable, a little slower).
 */
export function swiglu(gate: tf.Tensor2D, up: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(tf.mul(gate, tf.sigmoid(gate)), up);
}
