import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteTokenizer, defaultAdamW, forwardWithAux, initParams, llamaConfig, Trainer, tf, type ModelConfig } from '@efficientscale/core';
import { DeadExpertWatch, expertLoad, formatExpertLoad, summarizeExpertLoad } from './expert-load.js';
import { upcycle } from './upcycle.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const dense = (): ModelConfig => llamaConfig({ vocab: 64, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 32 });

describe('expert load', () => {
  it('counts each expert\'s share of the assignments; shares sum to 1', () => {
    expect(expertLoad(Int32Array.from([0, 1, 0, 2, 0, 1]), 4)).toEqual([3 / 6, 2 / 6, 1 / 6, 0]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (experts, raw) => {
        const shares = expertLoad(Int32Array.from(raw.map((r) => r % experts)), experts);
        expect(shares).toHaveLength(experts);
        expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      }),
      { numRuns: 20 },
    );
  });

  it('forward reports it per MoE layer only; a zero router sends every token to the lowest k experts', () => {
    const params = initParams(dense(), 3);
    const up = upcycle(dense(), params, { experts: 4, topK: 2, routerInit: 'zero', layers: [1], seed: 1 });
    const tokens = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 8]], [1, 8], 'int32');
    const out = forwardWithAux(up.config, up.params, tokens);
    // equal logits: ties go to the lower index, so experts 0 and 1 take all 8 · 2 assignments.
    expect(out.ffnMetrics).toEqual({ expert_load: { 1: [0.5, 0.5, 0, 0] } });
    expect(summarizeExpertLoad(out.ffnMetrics)).toEqual([{ layer: 1, max: 0.5, min: 0, experts: 4 }]);
    expect(formatExpertLoad(out.ffnMetrics)).toBe('experts max 50% min 0%');
    expect(formatExpertLoad(forwardWithAux(dense(), params, tokens).ffnMetrics)).toBe('');
    tf.dispose([tokens, out.logits, out.auxLoss, ...Object.values(params), ...Object.values(up.params)]);
  });

  it('the Trainer averages it over micro-batches; dense steps report none', () => {
    const params = initParams(dense(), 4);
    const up = upcycle(dense(), params, { experts: 4, topK: 1, routerInit: 'random', seed: 2 });
    const ids = new ByteTokenizer().encode('pack my box with five dozen liquor jugs. '.repeat(20)).map((t) => t % 64);
    const options = { batchSize: 2, seqLen: 8, accumulation: 3, schedule: { kind: 'constant' as const, lr: 1e-3 }, adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1 };
    const trainer = new Trainer(up.config, up.params, ids, ids, options);
    const m = trainer.step();
    const layers = m.ffnMetrics!.expert_load;
    expect(Object.keys(layers)).toEqual(['0', '1']);
    for (const shares of Object.values(layers)) {
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      // a mean of 3 micro-batches of 16 assignments each: every share is a multiple of 1/48.
      for (const s of shares) expect(Math.abs(s * 48 - Math.round(s * 48))).toBeLessThan(1e-6);
    }
    trainer.dispose();
    const plain = Trainer.fresh(dense(), ids, ids, options);
    expect(plain.step().ffnMetrics).toBeUndefined();
    plain.dispose();
    tf.dispose([...Object.values(params), ...Object.values(up.params)]);
  });
});

describe('DeadExpertWatch', () => {
  const load = (shares: number[]) => ({ expert_load: { 2: shares } });

  it('warns once, after `patience` consecutive steps without tokens, naming the expert', () => {
    const watch = new DeadExpertWatch(3);
    expect(watch.observe(1, load([1, 0]))).toBeUndefined();
    expect(watch.observe(2, load([1, 0]))).toBeUndefined();
    expect(watch.observe(3, load([0.9, 0.1]))).toBeUndefined(); // revived: the count starts again
    expect(watch.observe(4, load([1, 0]))).toBeUndefined();
    expect(watch.observe(5, load([1, 0]))).toBeUndefined();
    expect(watch.observe(6, load([1, 0]))).toMatch(/^warning: layer 2 expert 1 received no tokens for 3 consecutive steps \(at step 6\)/);
    expect(watch.observe(7, load([1, 0]))).toBeUndefined();
    expect(new DeadExpertWatch(1).observe(1, undefined)).toBeUndefined();
  });
});
