import { tf, ffnKinds, forward, type ModelConfig, type Params } from '@efficientscale/core';
import { swiglu } from './swiglu.js';

/** Uncentred input covariances of one dense FFN on calibration tokens: Σ xxᵀ of its two input spaces. */
export interface FfnCovariance {
  /** [hidden × hidden], inputs of gate_proj and up_proj. */
  x: Float64Array;
  /** [ffn × ffn], inputs of down_proj (silu(gate)·up). */
  h: Float64Array;
  tokens: number;
}

const gram = (t: tf.Tensor2D): Float64Array => Float64Array.from(tf.matMul(t, t, true, false).dataSync());

/**
 * Runs the model on calibration tokens [batch, seq] and returns each dense layer's FFN input covariances,
 * from core's forward tap (the FFN input x; down_proj's input is recomputed from x and the layer's weights).
 */
export function ffnCovariances(config: ModelConfig, params: Params, tokens: tf.Tensor2D): Map<number, FfnCovariance> {
  const kinds = ffnKinds(config);
  const covs = new Map<number, FfnCovariance>();
  const tap = (layer: number, x: tf.Tensor2D) => {
    if (kinds[layer] !== 'dense') return;
    const w = (proj: string) => params[`model.layers.${layer}.mlp.${proj}.weight`] as tf.Tensor2D;
    const h = swiglu(tf.matMul(x, w('gate_proj'), false, true) as tf.Tensor2D, tf.matMul(x, w('up_proj'), false, true) as tf.Tensor2D);
    covs.set(layer, { x: gram(x), h: gram(h), tokens: x.shape[0] });
  };
  forward(config, params, tokens, { tap }).dispose();
  return covs;
}
