import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { dimsOf, llamaConfig, parseConfig, type ModelConfig } from './config.js';
import { checkParams, countParams, initParams, paramShapes } from './params.js';
import { forward } from './forward.js';
import { flopsPerToken } from './flops.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const base = { vocab_size: 32, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 4 };

describe('config validation', () => {
  it('names the impossible field, what was expected and what was found', () => {
    expect(() => parseConfig(JSON.stringify({ ...base, hidden_size: 18 }), 'c.json')).toThrowError(
      'c.json: "num_attention_heads": expected a divisor of hidden_size (18) unless head_dim is given, found 4',
    );
    expect(() => parseConfig(JSON.stringify({ ...base, num_key_value_heads: 3 }), 'c.json')).toThrowError('c.json: "num_key_value_heads": expected a divisor of num_attention_heads (4), found 3');
    expect(() => parseConfig(JSON.stringify({ ...base, vocab_size: -1 }), 'c.json')).toThrowError('c.json: "vocab_size": expected a positive integer, found -1');
    expect(() => parseConfig('{"hidden_size": ', 'c.json')).toThrowError(UserError);
    expect(() => parseConfig(JSON.stringify({ ...base, hidden_act: 'gelu' }), 'c.json')).toThrowError('c.json: "hidden_act": expected "silu", found "gelu"');
  });

  it('reads rope_theta as transformers 4 and 5 write it', () => {
    expect(dimsOf({ ...base, rope_theta: 500000 } as ModelConfig).ropeTheta).toBe(500000);
    expect(dimsOf({ ...base, rope_parameters: { rope_theta: 1234, rope_type: 'default' } } as ModelConfig).ropeTheta).toBe(1234);
    expect(dimsOf({ ...base, head_dim: 8 } as ModelConfig).headDim).toBe(8);
  });

  it('reports a weight whose shape disagrees with config.json', () => {
    const config = llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 1, heads: 4 });
    const shapes = paramShapes(config);
    const fake = Object.fromEntries(Object.entries(shapes).map(([n, s]) => [n, { shape: s }]));
    fake['model.layers.0.mlp.up_proj.weight'] = { shape: [25, 16] };
    expect(() => checkParams(config, fake, 'model.safetensors')).toThrowError(
      'model.safetensors: weight "model.layers.0.mlp.up_proj.weight": expected shape [24,16] (implied by config.json), found [25,16]',
    );
    delete fake['model.layers.0.mlp.up_proj.weight'];
    expect(() => checkParams(config, fake, 'model.safetensors')).toThrowError(/no such weight/);
  });
});

const smallConfig = fc.record({
  kvHeads: fc.constantFrom(1, 2),
  rep: fc.constantFrom(1, 2),
  headDim: fc.constantFrom(2, 4, 8),
  layers: fc.integer({ min: 1, max: 2 }),
  ffn: fc.integer({ min: 1, max: 24 }),
  vocab: fc.integer({ min: 2, max: 40 }),
  tied: fc.boolean(),
});

describe('forward pass properties', () => {
  it('is causal: changing a later token never changes earlier logits', () => {
    fc.assert(
      fc.property(smallConfig, fc.integer({ min: 2, max: 10 }), fc.integer({ min: 0, max: 1000 }), (c, seq, seed) => {
        const heads = c.kvHeads * c.rep;
        const config = llamaConfig({ vocab: c.vocab, hidden: heads * c.headDim, ffn: c.ffn, layers: c.layers, heads, kvHeads: c.kvHeads, tied: c.tied });
        const params = initParams(config, seed, 0.3);
        const ids = Array.from({ length: seq }, (_, i) => (seed + 7 * i) % c.vocab);
        const changed = [...ids];
        changed[seq - 1] = (ids[seq - 1] + 1) % c.vocab;
        const [a, b] = [ids, changed].map((t) => tf.tidy(() => forward(config, params, tf.tensor2d(t, [1, seq], 'int32')).arraySync()[0]));
        tf.dispose(Object.values(params));
        for (let t = 0; t < seq - 1; t++) for (let v = 0; v < c.vocab; v++) expect(Math.abs(a[t][v] - b[t][v])).toBeLessThan(1e-5);
      }),
      { numRuns: 15 },
    );
  });

  it('grouped-query attention equals multi-head attention with each KV head repeated', () => {
    fc.assert(
      fc.property(smallConfig, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1000 }), (c, seq, seed) => {
        const rep = 2;
        const heads = c.kvHeads * rep;
        const gqa = llamaConfig({ vocab: c.vocab, hidden: heads * c.headDim, ffn: c.ffn, layers: c.layers, heads, kvHeads: c.kvHeads });
        const mha = { ...gqa, num_key_value_heads: heads };
        const params = initParams(gqa, seed, 0.3);
        const expanded = { ...params };
        for (let l = 0; l < c.layers; l++) {
          for (const w of ['k_proj', 'v_proj']) {
            const name = `model.layers.${l}.self_attn.${w}.weight`;
            const kv = tf.reshape(params[name], [c.kvHeads, 1, c.headDim, -1]);
            expanded[name] = tf.reshape(tf.tile(kv, [1, rep, 1, 1]), [heads * c.headDim, -1]);
          }
        }
        const ids = tf.tensor2d(Array.from({ length: seq }, (_, i) => (seed + 3 * i) % c.vocab), [1, seq], 'int32');
        const a = forward(gqa, params, ids).dataSync();
        const b = forward(mha, expanded, ids).dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
        tf.dispose([ids, ...Object.values(params), ...Object.values(expanded)]);
      }),
      { numRuns: 15 },
    );
  });

  it('runs a 0-layer model (embeddings → final norm → head), where zero-layer progressive training starts', () => {
    for (const tied of [false, true]) {
      const config = { ...llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 1, heads: 2, tied }), num_hidden_layers: 0 };
      expect(dimsOf(config).layers).toBe(0);
      expect(Object.keys(paramShapes(config)).sort()).toEqual(tied ? ['model.embed_tokens.weight', 'model.norm.weight'] : ['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
      const params = initParams(config, 3, 0.5);
      const ids = [[1, 2, 3, 15]];
      const got = tf.tidy(() => forward(config, params, tf.tensor2d(ids, [1, 4], 'int32')).arraySync() as number[][][]);
      const emb = params['model.embed_tokens.weight'].arraySync() as number[][];
      const head = (tied ? params['model.embed_tokens.weight'] : params['lm_head.weight']).arraySync() as number[][];
      const norm = params['model.norm.weight'].arraySync() as number[];
      const eps = dimsOf(config).eps;
      ids[0].forEach((id, t) => {
        const x = emb[id];
        const r = 1 / Math.sqrt(x.reduce((a, v) => a + v * v, 0) / x.length + eps);
        const h = x.map((v, j) => v * r * norm[j]);
        head.forEach((w, v) => expect(got[0][t][v]).toBeCloseTo(w.reduce((a, wj, j) => a + wj * h[j], 0), 5));
      });
      tf.dispose(Object.values(params));
    }
  });

  it('leaves no tensors behind', () => {
    const config = llamaConfig({ vocab: 16, hidden: 8, ffn: 8, layers: 1, heads: 2 });
    const params = initParams(config, 1);
    const ids = tf.tensor2d([[1, 2, 3]], [1, 3], 'int32');
    const before = tf.memory().numTensors;
    forward(config, params, ids).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('FLOP accounting', () => {
  it('counts matmul parameters that run per token, plus attention', () => {
    const config = llamaConfig({ vocab: 512, hidden: 256, ffn: 688, layers: 4, heads: 4, kvHeads: 2 });
    const f = flopsPerToken(config, 128);
    const perLayer = 256 * 256 * 2 + 256 * 128 * 2 + 3 * 256 * 688;
    expect(f.activeMatmulParams).toBe(4 * perLayer + 512 * 256);
    expect(f.forwardPerToken).toBe(2 * f.activeMatmulParams + 4 * 4 * 128 * 256);
    expect(f.trainPerToken).toBe(3 * f.forwardPerToken);
    expect(countParams(config)).toBe(4 * (perLayer + 2 * 256) + 2 * 512 * 256 + 256);
  });
});
