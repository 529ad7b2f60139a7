import { forward, getFfnKind, registerFfnKind, tf, type FfnKind, type ModelConfig, type Params } from '@efficientscale/core';
import { ffnKinds } from '@efficientscale/core';

/**
 * The input of every layer's FFN (hidden states after the post-attention norm) on a batch, got by
 * running core's own forward pass with each FFN wrapped in a recorder: no copy of the decoder here.
 */
let recording: { kinds: string[]; states: Float32Array[] } | undefined;

const recorder: FfnKind = {
  kind: 'moe-calibration-recorder',
  paramShapes: (config, d, layer) => getFfnKind(recording!.kinds[layer]).paramShapes(config, d, layer),
  forward(ctx, x) {
    recording!.states[ctx.layer] = x.dataSync() as Float32Array;
    return getFfnKind(recording!.kinds[ctx.layer]).forward(ctx, x);
  },
  activeParamsPerToken: (config, d, layer) => getFfnKind(recording!.kinds[layer]).activeParamsPerToken(config, d, layer),
};
registerFfnKind(recorder);

/** FFN inputs of each layer, [tokens, hidden] row-major, for tokens [batch, seq]. */
export function ffnInputs(config: ModelConfig, params: Params, tokens: tf.Tensor2D): Float32Array[] {
  const kinds = ffnKinds(config);
  const wrapped: ModelConfig = { ...config, efficientscale: { ...config.efficientscale, ffn_kinds: kinds.map(() => recorder.kind) } };
  recording = { kinds, states: [] };
  try {
    tf.dispose(forward(wrapped, params, tokens));
    return recording.states;
  } finally {
    recording = undefined;
  }
}
