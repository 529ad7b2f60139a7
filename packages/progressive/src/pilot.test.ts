import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAdamW, initParams, learningRate, llamaConfig, tf, wsdSchedule, type TrainerOptions } from '@efficientscale/core';
import { catchUp } from './catch-up.js';
import { growModel } from './checkpoint.js';
import { placeGrowth, runPilot } from './pilot.js';
import { disposeAll } from './test-util.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const target = llamaConfig({ vocab: 24, hidden: 8, ffn: 16, layers: 3, heads: 2, maxPositions: 32 });
const ids = Int32Array.from({ length: 3000 }, (_, i) => (i * 7 + (i % 5)) % 24);
const trainer = (total: number): TrainerOptions => ({ batchSize: 4, seqLen: 16, accumulation: 1, schedule: wsdSchedule(1e-2, total, 0.02, 0.1), adamw: defaultAdamW, clipNorm: 1, seed: 3, evalBatches: 1 });

describe('the published recipe\'s growth', () => {
  it('copy with depthExact false: every new layer is a copy of an old one, output projections included, so the function changes', () => {
    const small = { ...target, num_hidden_layers: 1 };
    const params = initParams(small, 2);
    const grown = growModel(small, params, { layers: 3, depthMethod: 'copy', depthExact: false });
    expect(grown.report.exact).toBe(false);
    expect(grown.report.maxLogitGap).toBeGreaterThan(1e-3);
    for (const layer of [1, 2]) {
      for (const w of ['self_attn.o_proj.weight', 'mlp.down_proj.weight', 'mlp.up_proj.weight']) {
        expect(Array.from(grown.params[`model.layers.${layer}.${w}`].dataSync())).toEqual(Array.from(params[`model.layers.0.${w}`].dataSync()));
      }
    }
    disposeAll(params, grown.params);
  });
});

describe('placeGrowth', () => {
  it('grows t_mix steps before the decay starts, refuses when the stable phase is too short, and says why', () => {
    const schedule = wsdSchedule(1e-2, 1000, 0.02, 0.1);
    // The decay starts at step 900 (its first step still at the peak).
    expect(learningRate(schedule, 900)).toBe(1e-2);
    expect(learningRate(schedule, 901)).toBeLessThan(1e-2);
    expect(placeGrowth(150, schedule, 1000, 250)).toMatchObject({ growStep: 750, growAt: 0.75 });
    expect(placeGrowth(150, schedule, 1000, 250).note).toContain('ends it at step 900, where the decay starts');
    expect(placeGrowth(890, schedule, 1000, 250)).toEqual({ note: 'catch-up takes 890 steps, more than the 880 steps of the stable phase: no growth point lets it finish before the decay' });
    expect(placeGrowth(undefined, schedule, 1000, 250, 0.0412).note).toBe('the grown pilot run did not catch up with the fixed-size one within 250 steps (still 0.041 nats above): run a longer pilot (--pilot-steps) or grow earlier');
  });
});

describe('runPilot', () => {
  it('measures the catch-up of a 1 → 3 copy growth right after warmup against the fixed-size run on the same data, and places the growth from it', async () => {
    const total = 400;
    const before = tf.memory().numTensors;
    const pilot = await runPilot({ target, progressive: { fromLayers: 1 }, trainIds: ids, valIds: ids.slice(0, 400), trainer: trainer(total), totalSteps: total, steps: 60 });
    expect(tf.memory().numTensors).toBe(before);
    expect(pilot.steps).toBe(60);
    expect(pilot.grewAt).toBe(8);
    expect(pilot.fixedLoss).toHaveLength(60);
    expect(pilot.grownLoss).toHaveLength(60);
    expect(pilot.flops).toBeGreaterThan(0);
    // The catch-up is recomputed from the smoothed losses the pilot returns (window 5, compared from a window after the growth, held for two windows).
    const met = catchUp(pilot.grownLoss.map((y, i) => ({ x: i + 1, y })), pilot.fixedLoss.map((y, i) => ({ x: i + 1, y })), 8 + 5, 10);
    expect(pilot.catchUpSteps).toBe(met.x === undefined ? undefined : Math.ceil(met.x - 8));
    const placed = placeGrowth(pilot.catchUpSteps, trainer(total).schedule, total, 60, met.finalGap);
    expect(pilot.growStep).toBe(placed.growStep);
    expect(pilot.note).toBe(placed.note);
    if (pilot.growStep !== undefined) expect(pilot.growStep + pilot.catchUpSteps!).toBe(360);
  });
});
