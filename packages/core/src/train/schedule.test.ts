import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { learningRate, type ScheduleSpec } from './schedule.js';

describe('learning-rate schedules', () => {
  it('warm up linearly to the peak', () => {
    const spec: ScheduleSpec = { kind: 'cosine', lr: 1e-3, warmup: 10, total: 100 };
    expect(learningRate(spec, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRate(spec, 4)).toBeCloseTo(5e-4, 12);
    expect(learningRate(spec, 10)).toBeCloseTo(1e-3, 12);
  });

  it('cosine decays from the peak to minRatio·peak at the last step', () => {
    const spec: ScheduleSpec = { kind: 'cosine', lr: 2e-3, warmup: 0, total: 50, minRatio: 0.1 };
    expect(learningRate(spec, 0)).toBeCloseTo(2e-3, 12);
    expect(learningRate(spec, 25)).toBeCloseTo(1.1e-3, 12);
    expect(learningRate(spec, 50)).toBeCloseTo(2e-4, 12);
  });

  it('warmup-stable-decay holds the peak, then decays linearly over the last fraction', () => {
    const spec: ScheduleSpec = { kind: 'wsd', lr: 1e-3, warmup: 10, total: 110, decayFraction: 0.2, minRatio: 0 };
    expect(learningRate(spec, 50)).toBe(1e-3);
    expect(learningRate(spec, 89)).toBe(1e-3);
    expect(learningRate(spec, 100)).toBeCloseTo(5e-4, 12);
    expect(learningRate(spec, 110)).toBeCloseTo(0, 12);
  });

  it('never exceeds the peak and never goes negative', () => {
    fc.assert(
      fc.property(fc.constantFrom('constant', 'cosine', 'wsd'), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 600 }), (kind, warmup, total, step) => {
        const spec = { kind, lr: 1e-3, warmup, total } as ScheduleSpec;
        const lr = learningRate(spec, step);
        expect(lr).toBeGreaterThanOrEqual(0);
        expect(lr).toBeLessThanOrEqual(1e-3 * (1 + 1e-12));
      }),
    );
  });
});
