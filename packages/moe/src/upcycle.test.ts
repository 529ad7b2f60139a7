import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteTokenizer, checkParams, defaultAdamW, dimsOf, forward, forwardWithAux, initParams, llamaConfig, Trainer, tf, UserError, type ModelConfig } from '@efficientscale/core';
import { upcycle } from './upcycle.js';
import { moeSettings } from './moe-config.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const tokensOf = (vocab: number, seed: number) => tf.tidy(() => tf.cast(tf.randomUniform([2, 7], 0, vocab, 'float32', seed), 'int32')) as tf.Tensor2D;

describe('upcycle', () => {
  it('keeps the dense model\'s logits (1e-4) for any router init, layer choice and granularity', () => {
    fc.assert(
      fc.property(
        fc.record({
          hidden: fc.constantFrom(8, 16),
          ffn: fc.constantFrom(8, 12, 16),
          layers: fc.integer({ min: 1, max: 3 }),
          experts: fc.integer({ min: 1, max: 4 }),
          k: fc.integer({ min: 1, max: 4 }),
          granularity: fc.constantFrom(1, 2, 4),
          routerInit: fc.constantFrom('random' as const, 'zero' as const, 'kmeans' as const),
          layerSpec: fc.constantFrom('all' as const, 'even' as const, [0]),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (c) => {
          const config = llamaConfig({ vocab: 32, hidden: c.hidden, ffn: c.ffn, layers: c.layers, heads: 2 });
          const params = initParams(config, c.seed, 0.3);
          const topK = Math.min(c.k, c.experts);
          const out = upcycle(config, params, { experts: c.experts, topK, granularity: c.granularity, routerInit: c.routerInit, routerStd: 1, layers: c.layerSpec, seed: c.seed });
          checkParams(out.config, out.params, 'upcycled');
          const tokens = tokensOf(32, c.seed);
          const before = forward(config, params, tokens);
          const after = forward(out.config, out.params, tokens);
          expect(maxDiff(before, after)).toBeLessThan(1e-4);
          expect(out.report.maxAbsLogitDiff).toBeLessThan(1e-4);
          expect(out.report.experts).toBe(c.experts * c.granularity);
          expect(out.report.mixtral).toBe(c.layerSpec === 'all' || c.layers === 1);
          if (out.report.mixtral) {
            expect(out.config.architectures).toEqual(['MixtralForCausalLM']);
            expect(out.config.intermediate_size).toBe(c.ffn / c.granularity);
          }
          tf.dispose([tokens, before, after, ...Object.values(params), ...Object.values(out.params)]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('writes mixed dense/MoE configs with per-layer kinds, and noise / drop-upcycling change the function as asked', () => {
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 3, heads: 2 });
    const params = initParams(config, 3, 0.3);
    const mixed = upcycle(config, params, { experts: 4, topK: 2, granularity: 2, layers: 'even', seed: 1 });
    expect(mixed.config.efficientscale?.ffn_kinds).toEqual(['moe', 'dense', 'moe']);
    expect(mixed.config.efficientscale?.ffn_options?.moe).toEqual({ expert_intermediate_size: 6 });
    expect(mixed.config.num_local_experts).toBe(8);
    expect(mixed.config.num_experts_per_tok).toBe(4);
    expect(mixed.params['model.layers.1.mlp.up_proj.weight']).toBeDefined();
    expect(mixed.params['model.layers.0.mlp.up_proj.weight']).toBeUndefined();
    const noisy = upcycle(config, params, { experts: 2, topK: 1, noise: 0.05, seed: 1 });
    expect(noisy.report.maxAbsLogitDiff).toBeGreaterThan(1e-4);
    const dropped = upcycle(config, params, { experts: 2, topK: 1, dropFraction: 0.5, seed: 1 });
    expect(dropped.report.maxAbsLogitDiff).toBeGreaterThan(1e-4);
    // Half of expert 0's intermediate units are new: exactly 6 of 12 gate rows differ from the dense ones.
    const dense = params['model.layers.0.mlp.gate_proj.weight'].arraySync() as number[][];
    const w1 = dropped.params['model.layers.0.block_sparse_moe.experts.0.w1.weight'].arraySync() as number[][];
    expect(w1.filter((row, j) => row.some((v, h) => v !== dense[j][h])).length).toBe(6);
    tf.dispose([...Object.values(params), ...[mixed, noisy, dropped].flatMap((r) => Object.values(r.params))]);
  });

  it('copies the dense AdamW moments to every expert (or resets them) and refuses impossible options', () => {
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 12, layers: 1, heads: 2 });
    const params = initParams(config, 4, 0.3);
    const optimizer = Object.fromEntries(Object.entries(params).flatMap(([n, t]) => [[`m.${n}`, tf.mul(t, 0.1)], [`v.${n}`, tf.square(t)]]));
    const out = upcycle(config, params, { experts: 3, topK: 2, granularity: 2, optimizer, seed: 2 });
    const m = out.optimizer!['m.model.layers.0.block_sparse_moe.experts.5.w2.weight'].arraySync() as number[][];
    const denseM = optimizer['m.model.layers.0.mlp.down_proj.weight'].arraySync() as number[][];
    expect(m[2][1]).toBeCloseTo(denseM[2][6 + 1] * 2, 6); // slice 1 of copy 2, down scaled by g = 2
    expect(out.optimizer!['m.model.layers.0.block_sparse_moe.gate.weight']).toBeUndefined();
    expect(out.optimizer!['m.model.layers.0.mlp.up_proj.weight']).toBeUndefined();
    const reset = upcycle(config, params, { experts: 3, topK: 2, optimizer, resetOptimizer: true, seed: 2 });
    expect(Object.keys(reset.optimizer!).some((k) => k.includes('experts'))).toBe(false);
    expect(reset.report.optimizer).toBe('reset');
    expect(() => upcycle(config, params, { experts: 2, topK: 3 })).toThrowError(/topK: expected at most the number of experts \(2\), found 3/);
    expect(() => upcycle(config, params, { experts: 0, topK: 1 })).toThrowError(UserError);
    expect(() => upcycle(config, params, { experts: 0, topK: 1 })).toThrowError(/expected an integer >= 1, found 0/);
    expect(() => upcycle(config, params, { experts: 2, topK: 1, granularity: 5 })).toThrowError(/granularity: expected a divisor of intermediate_size \(12\), found 5/);
    expect(() => upcycle(out.config, out.params, { experts: 2, topK: 1 })).toThrowError(/expected a dense model, found a model that already has MoE layers/);
    expect(() => upcycle(config, params, { experts: 2, topK: 1, layers: [3] })).toThrowError(/layer indices in 0..0, found 3/);
    tf.dispose([...Object.values(params), ...Object.values(optimizer), ...[out, reset].flatMap((r) => [...Object.values(r.params), ...Object.values(r.optimizer!)])]);
  });

  it('an upcycled model trains with core\'s Trainer: loss falls, gradients reach the router, no tensors leak', () => {
    const config: ModelConfig = llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 2, heads: 2, maxPositions: 64 });
    const params = initParams(config, 5);
    const up = upcycle(config, params, { experts: 4, topK: 2, routerInit: 'kmeans', seed: 5 });
    const ids = new ByteTokenizer().encode('the quick brown fox jumps over the lazy dog. '.repeat(30));
    const trainer = new Trainer(up.config, up.params, ids, ids, {
      batchSize: 4, seqLen: 16, accumulation: 1, schedule: { kind: 'constant', lr: 1e-2 }, adamw: defaultAdamW, clipNorm: 1, seed: 1, evalBatches: 1,
    });
    const router0 = trainer.vars['model.layers.0.block_sparse_moe.gate.weight'].arraySync() as number[][];
    const first = trainer.step();
    const count = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 12; i++) last = trainer.step();
    expect(tf.memory().numTensors).toBe(count);
    expect(last.loss).toBeLessThan(first.loss - 0.3);
    expect(first.auxLoss).toBeGreaterThan(0);
    const router1 = trainer.vars['model.layers.0.block_sparse_moe.gate.weight'].arraySync() as number[][];
    expect(router1.flat().some((v, i) => v !== router0.flat()[i])).toBe(true);
    tf.dispose([...Object.values(params), ...Object.values(up.params)]);
  });

  it('writes the load-balancing and z-loss coefficients the MoE layer reads, and keeps the dense logits (1e-4) whatever they are', () => {
    fc.assert(
      fc.property(
        fc.record({
          aux: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          z: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
          denseAux: fc.option(fc.constantFrom(0, 0.02), { nil: undefined }),
          layerSpec: fc.constantFrom('all' as const, 'even' as const),
          granularity: fc.constantFrom(1, 2),
          seed: fc.integer({ min: 0, max: 1000 }),
        }),
        (c) => {
          const base = llamaConfig({ vocab: 32, hidden: 8, ffn: 8, layers: 2, heads: 2 });
          const config: ModelConfig = c.denseAux === undefined ? base : { ...base, router_aux_loss_coef: c.denseAux };
          const params = initParams(config, c.seed, 0.3);
          const out = upcycle(config, params, { experts: 3, topK: 2, granularity: c.granularity, routerStd: 1, layers: c.layerSpec, seed: c.seed, auxLossCoef: c.aux, zLossCoef: c.z });
          // Default as before: the dense config's coefficient, else Mixtral's 0.001; no z-loss unless asked.
          const aux = c.aux ?? c.denseAux ?? 0.001;
          expect(out.config.router_aux_loss_coef).toBe(aux);
          expect(out.config.efficientscale?.ffn_options?.moe?.router_z_loss_coef).toBe(c.z);
          const settings = moeSettings(out.config, dimsOf(out.config));
          expect(settings.auxLossCoef).toBe(aux);
          expect(settings.zLossCoef).toBe(c.z ?? 0);
          expect(out.report.auxLossCoef).toBe(aux);
          expect(out.report.zLossCoef).toBe(c.z ?? 0);
          const tokens = tokensOf(32, c.seed);
          const before = forward(config, params, tokens);
          const after = forward(out.config, out.params, tokens);
          expect(maxDiff(before, after)).toBeLessThan(1e-4);
          expect(out.report.maxAbsLogitDiff).toBeLessThan(1e-4);
          tf.dispose([tokens, before, after, ...Object.values(params), ...Object.values(out.params)]);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('the forward\'s auxiliary loss scales with the written load-balancing coefficient', () => {
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 8, layers: 2, heads: 2 });
    const params = initParams(config, 6, 0.3);
    const one = upcycle(config, params, { experts: 4, topK: 1, routerStd: 1, seed: 6, auxLossCoef: 1 });
    const tenth = upcycle(config, params, { experts: 4, topK: 1, routerStd: 1, seed: 6, auxLossCoef: 0.1 });
    const tokens = tokensOf(32, 6);
    const a = forwardWithAux(one.config, one.params, tokens);
    const b = forwardWithAux(tenth.config, tenth.params, tokens);
    const auxOne = a.auxLoss.dataSync()[0];
    expect(auxOne).toBeGreaterThan(0);
    expect(b.auxLoss.dataSync()[0]).toBeCloseTo(auxOne * 0.1, 6);
    tf.dispose([tokens, a.logits, a.auxLoss, b.logits, b.auxLoss, ...Object.values(params), ...[one, tenth].flatMap((r) => Object.values(r.params))]);
  });

  it('refuses a negative or non-numeric loss coefficient with one line naming expected and found', () => {
    const config = llamaConfig({ vocab: 32, hidden: 8, ffn: 8, layers: 1, heads: 2 });
    const params = initParams(config, 7, 0.3);
    const refusal = (extra: object) => {
      try {
        upcycle(config, params, { experts: 2, topK: 1, ...extra });
      } catch (err) {
        expect(err).toBeInstanceOf(UserError);
        expect((err as Error).message).not.toContain('\n');
        return (err as Error).message;
      }
      throw new Error('the options were accepted');
    };
    expect(refusal({ auxLossCoef: -0.01 })).toBe('upcycle auxLossCoef: expected a number >= 0, found -0.01');
    expect(refusal({ auxLossCoef: Number.NaN })).toBe('upcycle auxLossCoef: expected a number >= 0, found NaN');
    expect(refusal({ auxLossCoef: '0.01' })).toBe('upcycle auxLossCoef: expected a number >= 0, found "0.01"');
    expect(refusal({ zLossCoef: -1 })).toBe('upcycle zLossCoef: expected a number >= 0, found -1');
    expect(refusal({ zLossCoef: Number.POSITIVE_INFINITY })).toBe('upcycle zLossCoef: expected a number >= 0, found Infinity');
    tf.dispose(Object.values(params));
  });
});
