import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { forward, initParams, llamaConfig, tf, type ModelConfig, type Params } from '@efficientscale/core';
import '@efficientscale/moe'; // registers the moe FFN kind that the upcycled (Mixtral) config runs on
import { growDepthMapping, upcycleMapping, type SourceTensor } from './stream-mappings.js';
import type { OutputTensor } from '@efficientscale/core';

// The streaming transforms' mappings applied in memory (what streamTransform does tensor by tensor on
// disk): on random small models and tokens the new model's logits equal the old ones.

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const modelArb = fc.record({
  vocab: fc.integer({ min: 8, max: 40 }),
  headDim: fc.constantFrom(2, 4, 6),
  heads: fc.integer({ min: 1, max: 4 }),
  kvDivisor: fc.constantFrom(1, 2, 4),
  ffn: fc.integer({ min: 2, max: 24 }),
  layers: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 10_000 }),
  tokens: fc.array(fc.nat(), { minLength: 1, maxLength: 12 }),
});

type ModelSpec = typeof modelArb extends fc.Arbitrary<infer T> ? T : never;

function build(m: ModelSpec): { config: ModelConfig; params: Params; tensors: SourceTensor[]; ids: number[] } {
  const kvHeads = m.heads % m.kvDivisor === 0 ? m.heads / m.kvDivisor : m.heads;
  const config = llamaConfig({ vocab: m.vocab, hidden: m.heads * m.headDim, ffn: m.ffn, layers: m.layers, heads: m.heads, kvHeads, maxPositions: 16 });
  const params = initParams(config, m.seed, 0.3);
  const tensors = Object.entries(params).map(([name, t]) => ({ name, shape: t.shape }));
  return { config, params, tensors, ids: m.tokens.map((t) => t % m.vocab) };
}

/** The outputs computed from in-memory params, as the streaming writer would compute them. */
function apply(params: Params, outputs: OutputTensor[]): Params {
  const read = (name: string) => {
    const t = params[name];
    if (!t) throw new Error(`mapping read a tensor the source lacks: ${name}`);
    return t.dataSync() as Float32Array;
  };
  return Object.fromEntries(outputs.map((o) => [o.name, tf.tensor(o.compute(read), o.shape, 'float32')]));
}

function maxLogitGap(a: { config: ModelConfig; params: Params }, b: { config: ModelConfig; params: Params }, ids: number[]): number {
  return tf.tidy(() => {
    const x = tf.tensor2d([ids], [1, ids.length], 'int32');
    return tf.max(tf.abs(tf.sub(forward(a.config, a.params, x), forward(b.config, b.params, x)))).dataSync()[0];
  });
}

describe('streaming mappings preserve the function (fast-check)', () => {
  it('upcycleMapping: E copies of each dense FFN and a Mixtral router give the dense logits (1e-5)', () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 99 }), (m, experts, k, seed) => {
        const src = build(m);
        const topK = Math.min(k, experts);
        const { config, outputs } = upcycleMapping(src.config, src.tensors, { experts, topK, seed, routerStd: 0.5 });
        const params = apply(src.params, outputs);
        expect(Object.keys(params)).toContain('model.layers.0.block_sparse_moe.gate.weight');
        expect(maxLogitGap(src, { config, params }, src.ids)).toBeLessThan(1e-5);
        tf.dispose([...Object.values(src.params), ...Object.values(params)]);
      }),
      { numRuns: 25 },
    );
  });

  it('growDepthMapping: zero-output copies of the layers below leave the logits unchanged (1e-5)', () => {
    fc.assert(
      fc.property(modelArb, fc.integer({ min: 1, max: 3 }), (m, extra) => {
        const src = build(m);
        const { config, outputs, inserted } = growDepthMapping(src.config, src.tensors, { layers: m.layers + extra });
        expect(inserted).toHaveLength(extra);
        expect(config.num_hidden_layers).toBe(m.layers + extra);
        const params = apply(src.params, outputs);
        expect(maxLogitGap(src, { config, params }, src.ids)).toBeLessThan(1e-5);
        tf.dispose([...Object.values(src.params), ...Object.values(params)]);
      }),
      { numRuns: 25 },
    );
  });
});
