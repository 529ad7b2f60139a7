import { tf } from '../tf.js';
import type { FfnKind } from './ffn-slot.js';
import { swiglu } from '../ops/fused.js';

/** SwiGLU FFN of Llama: down(silu(gate(x)) * up(x)). */
export const denseFfn: FfnKind = {
  kind: 'dense',
  weights: (_config, d) => ({
    'mlp.gate_proj.weight': { shape: [d.ffn, d.hidden], role: 'input-projection' },
    'mlp.up_proj.weight': { shape: [d.ffn, d.hidden], role: 'input-projection' },
    'mlp.down_proj.weight': { shape: [d.hidden, d.ffn], role: 'output-projection' },
  }),
  forward(ctx, x) {
    const gate = tf.matMul(x, ctx.param('mlp.gate_proj.weight') as tf.Tensor2D, false, true) as tf.Tensor2D;
    const up = tf.matMul(x, ctx.param('mlp.up_proj.weight') as tf.Tensor2D, false, true) as tf.Tensor2D;
    const h = swiglu(gate, up);
    return { y: tf.matMul(h, ctx.param('mlp.down_proj.weight') as tf.Tensor2D, false, true) };
  },
  activeParamsPerToken: (_config, d) => 3 * d.hidden * d.ffn,
};
