import { initParams, llamaConfig, tf, type ModelConfig, type Params } from '@efficientscale/core';
import fc from 'fast-check';

/** Small random Llama configs the property tests draw from. */
export const smallConfig = fc.record({
  layers: fc.integer({ min: 1, max: 2 }),
  kvHeads: fc.constantFrom(1, 2),
  rep: fc.constantFrom(1, 2),
  headDim: fc.constantFrom(4, 8),
  ffn: fc.integer({ min: 4, max: 24 }),
  vocab: fc.integer({ min: 16, max: 40 }),
  tied: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1000 }),
}).map((o) => {
  const heads = o.kvHeads * o.rep;
  const config = llamaConfig({ vocab: o.vocab, hidden: heads * o.headDim, ffn: o.ffn, layers: o.layers, heads, kvHeads: o.kvHeads, tied: o.tied });
  return { config, seed: o.seed };
});

/** Random weights with non-trivial norms, so tests see the RMSNorm weights at work. */
export function randomModel(config: ModelConfig, seed: number): Params {
  const params = initParams(config, seed, 0.3);
  for (const [name, t] of Object.entries(params)) {
    if (t.rank === 1) {
      params[name] = tf.tidy(() => tf.add(0.5, tf.randomUniform(t.shape, 0, 1, 'float32', seed + name.length)));
      t.dispose();
    }
  }
  return params;
}

export const disposeAll = (...maps: Array<Record<string, tf.Tensor> | undefined>) => {
  for (const m of maps) if (m) tf.dispose(Object.values(m));
};
