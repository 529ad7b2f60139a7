import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { initParams, learningRate, llamaConfig, tf, UserError, type ScheduleSpec } from '@efficientscale/core';
import { growModel } from './checkpoint.js';
import { newBlockLrScale, planProgressive } from './schedule.js';

const target = llamaConfig({ vocab: 32, hidden: 8, ffn: 16, layers: 6, heads: 2 });
const wsd: ScheduleSpec = { kind: 'wsd', lr: 1e-3, warmup: 10, total: 100 };

describe('planProgressive', () => {
  it('defaults to the published recipe: one growth from 1 layer to the target depth at 80%, new layers copies of the old ones with their outputs (not exact); random blocks from 0 layers', () => {
    const p = planProgressive(target, {}, 100, wsd);
    expect(p.config).toEqual({ ...target, num_hidden_layers: 1 });
    expect(p.schedule).toEqual([{ step: 80, stage: { layers: 6, depthMethod: 'copy', depthExact: false, seed: 0 } }]);
    expect(planProgressive(target, { fromLayers: 0 }, 100, wsd).schedule).toEqual([{ step: 80, stage: { layers: 6, depthMethod: 'random', seed: 0 } }]);
    expect(planProgressive(target, { method: 'zero' }, 100, wsd).schedule).toEqual([{ step: 80, stage: { layers: 6, depthMethod: 'zero', seed: 0 } }]);
  });

  it('reads --layers with or without the start depth, one seed per stage', () => {
    const withStart = planProgressive(target, { growAt: [0.5, 0.8], layers: [2, 4, 12], method: 'copy', seed: 7 }, 100, wsd);
    expect(withStart.fromLayers).toBe(2);
    expect(withStart.schedule).toEqual([
      { step: 50, stage: { layers: 4, depthMethod: 'copy', depthExact: false, seed: 7 } },
      { step: 80, stage: { layers: 12, depthMethod: 'copy', depthExact: false, seed: 8 } },
    ]);
    const without = planProgressive(target, { fromLayers: 0, growAt: [0.5, 0.8], layers: [4, 12] }, 100, { kind: 'constant', lr: 1e-3 });
    expect(without.config.num_hidden_layers).toBe(0);
    expect(without.schedule.map((s) => s.stage.layers)).toEqual([4, 12]);
    expect(() => planProgressive(target, { fromLayers: 1, growAt: [0.5], layers: [2, 6] }, 100, wsd)).toThrow(/a first depth equal to --from-layers \(1\)/);
  });

  it('every accepted growth step sees the peak LR on both sides; every refused one is in warmup or decay', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: 0, max: 30 }), fc.double({ min: 0.05, max: 0.6, noNaN: true }), (at, warmup, decayFraction) => {
        const schedule: ScheduleSpec = { kind: 'wsd', lr: 1e-3, warmup, total: 100, decayFraction };
        let step: number | undefined;
        try {
          step = planProgressive(target, { growAt: [at] }, 100, schedule).schedule[0].step;
        } catch (err) {
          expect(err).toBeInstanceOf(UserError);
          expect((err as Error).message).toMatch(/in the (warmup|decay)|distinct growth steps/);
          return;
        }
        expect(learningRate(schedule, step - 1)).toBe(1e-3);
        expect(learningRate(schedule, step)).toBe(1e-3);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses what cannot be planned, with one-line errors', () => {
    const refuse = (o: Parameters<typeof planProgressive>[1], schedule: ScheduleSpec = wsd) => () => planProgressive(target, o, 100, schedule);
    expect(refuse({ growAt: [0.8, 0.5], layers: [3, 6] })).toThrow(/--grow-at: expected increasing fractions/);
    expect(refuse({ growAt: [1] })).toThrow(UserError);
    expect(refuse({ layers: [6, 3] })).toThrow(/expected increasing non-negative integers, found 6,3/);
    expect(refuse({ fromLayers: 6 })).toThrow(/found 6,6/);
    expect(refuse({ fromLayers: 0, method: 'copy' })).toThrow(/there is no layer to copy/);
    expect(refuse({ method: 'stack' as never })).toThrow(/--grow-method: expected zero \| copy \| random/);
    expect(refuse({}, { kind: 'cosine', lr: 1e-3, warmup: 0, total: 100 })).toThrow(/expected wsd or constant/);
    expect(() => planProgressive({ ...target, efficientscale: { ffn_kinds: Array(6).fill('moe') } }, {}, 100, wsd)).toThrow(/dense FFNs only/);
  });

  it('newBlockLrScale names exactly the weights of the new layers, at max(1, before) / after', async () => {
    await tf.setBackend('cpu');
    const small = { ...target, num_hidden_layers: 2 };
    const params = initParams(small, 1);
    const grown = growModel(small, params, { layers: 5, depthMethod: 'copy' });
    const scale = newBlockLrScale(grown);
    const newLayers = grown.report.depth!.newLayers.map((l) => l.index);
    expect(newLayers.length).toBe(3);
    expect(Object.keys(scale).sort()).toEqual(Object.keys(grown.params).filter((n) => newLayers.some((i) => n.startsWith(`model.layers.${i}.`))).sort());
    expect(new Set(Object.values(scale))).toEqual(new Set([2 / 5]));
    const wider = growModel(small, params, { ffn: 32 });
    expect(newBlockLrScale(wider)).toEqual({});
    tf.dispose([...Object.values(params), ...Object.values(grown.params), ...Object.values(wider.params)]);
  });
});
