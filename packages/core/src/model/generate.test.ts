import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig, type ModelConfig } from './config.js';
import { forward } from './forward.js';
import { initParams } from './params.js';
import { eosTokens, generate } from './generate.js';
import { KvCache, decodeStep } from './kv-cache.js';
import { pickToken } from './sampling.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const gqa = llamaConfig({ vocab: 48, hidden: 24, ffn: 40, layers: 2, heads: 4, kvHeads: 2, maxPositions: 16, tied: true });
const llama3: ModelConfig = {
  ...llamaConfig({ vocab: 32, hidden: 16, ffn: 24, layers: 3, heads: 2, maxPositions: 24 }),
  rope_theta: 500,
  rope_parameters: { rope_type: 'llama3', rope_theta: 500, factor: 4, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 },
};

describe('generate with a KV cache', () => {
  it('each cached step gives the logits forward() gives at that position (prefill, then one token at a time)', async () => {
    for (const config of [gqa, llama3]) {
      const params = initParams(config, 4, 0.2);
      const ids = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
      const full = tf.tidy(() => forward(config, params, tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync());
      const vocab = config.vocab_size;
      const cache = new KvCache();
      const steps = [ids.slice(0, 4), ...ids.slice(4).map((t) => [t])];
      let position = -1;
      for (const chunk of steps) {
        const got = await decodeStep(config, params, cache, chunk);
        position += chunk.length;
        let gap = 0;
        for (let v = 0; v < vocab; v++) gap = Math.max(gap, Math.abs(got[v] - full[position * vocab + v]));
        expect(gap).toBeLessThan(1e-4);
      }
      expect(cache.length).toBe(ids.length);
      cache.dispose();
      tf.dispose(Object.values(params));
    }
  });

  it('greedy output with the cache equals without it, past max_position_embeddings too, and leaves no tensors behind', async () => {
    for (const config of [gqa, llama3]) {
      const params = initParams(config, 8, 0.3);
      const before = tf.memory().numTensors;
      const o = { maxNewTokens: 30, temperature: 0, topK: 0, seed: 0 };
      const cached = await generate(config, params, [7, 2, 9, 4, 1], o);
      expect(tf.memory().numTensors).toBe(before);
      const plain = await generate(config, params, [7, 2, 9, 4, 1], { ...o, cache: false });
      expect(cached).toEqual(plain);
      expect(new Set(cached).size).toBeGreaterThan(1); // not a degenerate constant stream
      tf.dispose(Object.values(params));
    }
  });

  it('sampling is reproducible for a seed, and the cache does not change what is sampled', async () => {
    const params = initParams(gqa, 2, 0.5);
    const o = { maxNewTokens: 12, temperature: 1, topK: 10, topP: 0.9, seed: 42 };
    const a = await generate(gqa, params, [1, 2, 3], o);
    expect(await generate(gqa, params, [1, 2, 3], o)).toEqual(a);
    expect(await generate(gqa, params, [1, 2, 3], { ...o, cache: false })).toEqual(a);
    expect(await generate(gqa, params, [1, 2, 3], { ...o, seed: 43 })).not.toEqual(a);
    const stopped = await generate(gqa, params, [1, 2, 3], { ...o, stopTokens: [a[2]] });
    expect(stopped).toEqual(a.slice(0, a.indexOf(a[2]) + 1));
    expect(eosTokens({ ...gqa, eos_token_id: [2, 7] })).toEqual([2, 7]);
    expect(eosTokens({ ...gqa, eos_token_id: 5 })).toEqual([5]);
    expect(eosTokens(gqa)).toEqual([]);
    const limited = await generate(gqa, params, [1, 2, 3], { ...o, maxNewTokens: 40, topK: 0, topP: 1, temperature: 2, vocabLimit: 5 });
    expect(limited.every((t) => t < 5)).toBe(true);
    expect((await generate(gqa, params, [1, 2, 3], { ...o, maxNewTokens: 40, topK: 0, topP: 1, temperature: 2 })).some((t) => t >= 5)).toBe(true);
    tf.dispose(Object.values(params));
  });
});

describe('pickToken', () => {
  const logits = Float32Array.from([0.1, 3, 2.9, -1, 2.5, 0]);

  it('greedy takes the argmax; top-k 1 and a tiny top-p do too', () => {
    expect(pickToken(logits, { temperature: 0, topK: 0 }, 0.99)).toBe(1);
    for (let u = 0; u < 1; u += 0.1) {
      expect(pickToken(logits, { temperature: 1, topK: 1 }, u)).toBe(1);
      expect(pickToken(logits, { temperature: 1, topK: 0, topP: 0.01 }, u)).toBe(1);
    }
  });

  it('top-k draws only among the k most likely; top-p only within the nucleus; frequencies follow softmax/T', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(pickToken(logits, { temperature: 2, topK: 3 }, i / 200));
    expect([...seen].sort()).toEqual([1, 2, 4]);
    // p(1) ≈ 0.39, p(2) ≈ 0.35 at T = 1 over all six: a nucleus of 0.6 is {1, 2}.
    const nucleus = new Set<number>();
    for (let i = 0; i < 200; i++) nucleus.add(pickToken(logits, { temperature: 1, topK: 0, topP: 0.6 }, i / 200));
    expect([...nucleus].sort()).toEqual([1, 2]);
    const w = Array.from(logits, (l) => Math.exp(l));
    const share1 = w[1] / w.reduce((a, b) => a + b, 0);
    let count = 0;
    for (let i = 0; i < 1000; i++) if (pickToken(logits, { temperature: 1, topK: 0 }, (i + 0.5) / 1000) === 1) count++;
    expect(count / 1000).toBeCloseTo(share1, 2);
  });

  it('refuses impossible settings with a UserError', async () => {
    const params = initParams(gqa, 1);
    await expect(generate(gqa, params, [1], { maxNewTokens: 1, temperature: -1, topK: 0, seed: 0 })).rejects.toThrow(UserError);
    await expect(generate(gqa, params, [1], { maxNewTokens: 1, temperature: 1, topK: 0, topP: 0, seed: 0 })).rejects.toThrow(/top-p: expected a number in \(0, 1\], found 0/);
    tf.dispose(Object.values(params));
  });
});
