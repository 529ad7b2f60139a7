import { tf, denseFfn, ffnKinds, forward, registerFfnKind, type FfnKind, type ModelConfig, type Params } from '@efficientscale/core';
import { swiglu } from './swiglu.js';

/** Uncentred input covariances of one dense FFN on calibration tokens: Σ xxᵀ of its two input spaces. */
export interface FfnCovariance {
  /** [hidden × hidden], inputs of gate_proj and up_proj. */
  x: Float64Array;
  /** [ffn × ffn], inputs of down_proj (silu(gate)·up). */
  h: Float64Array;
  tokens: number;
}

let collecting: Map<number, FfnCovariance> | undefined;

const accumulate = (into: Float64Array | undefined, t: tf.Tensor2D): Float64Array => {
  const gram = tf.matMul(t, t, true, false);
  const g = gram.dataSync();
  gram.dispose();
  const acc = into ?? new Float64Array(g.length);
  for (let i = 0; i < g.length; i++) acc[i] += g[i];
  return acc;
};

/** The dense FFN, recording its inputs' covariances while `ffnCovariances` runs a forward pass. */
const recordingFfn: FfnKind = {
  ...denseFfn,
  kind: 'dense-recording',
  forward(ctx, x) {
    const gate = tf.matMul(x, ctx.param('mlp.gate_proj.weight') as tf.Tensor2D, false, true) as tf.Tensor2D;
    const up = tf.matMul(x, ctx.param('mlp.up_proj.weight') as tf.Tensor2D, false, true) as tf.Tensor2D;
    const h = swiglu(gate, up);
    if (collecting) {
      const prev = collecting.get(ctx.layer);
      collecting.set(ctx.layer, { x: accumulate(prev?.x, x), h: accumulate(prev?.h, h), tokens: (prev?.tokens ?? 0) + x.shape[0] });
    }
    return { y: tf.matMul(h, ctx.param('mlp.down_proj.weight') as tf.Tensor2D, false, true) };
  },
};

/** Runs the model on calibration tokens [batch, seq] and returns each dense layer's FFN input covariances. */
export function ffnCovariances(config: ModelConfig, params: Params, tokens: tf.Tensor2D): Map<number, FfnCovariance> {
  registerFfnKind(recordingFfn);
  const kinds = ffnKinds(config).map((k) => (k === 'dense' ? recordingFfn.kind : k));
  const recording = { ...config, efficientscale: { ...config.efficientscale, ffn_kinds: kinds } };
  collecting = new Map();
  try {
    forward(recording, params, tokens).dispose();
    return collecting;
  } finally {
    collecting = undefined;
  }
}
