import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { learningRate, wsdSchedule, type ScheduleSpec } from './schedule.js';

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

  it('wsdSchedule: warmup and decay as fractions of all steps; the decay holds exactly round(decay × total) steps from the peak down', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10, max: 5000 }), fc.double({ min: 0, max: 0.3, noNaN: true }), fc.double({ min: 0.01, max: 0.5, noNaN: true }), (total, warmupFraction, decayFraction) => {
        const spec = wsdSchedule(1, total, warmupFraction, decayFraction);
        const warmup = Math.round(warmupFraction * total);
        const decay = Math.max(1, Math.round(decayFraction * total));
        expect(spec.warmup).toBe(Math.min(warmup, total - 1));
        // The decay starts at the peak (step total − decay) and is below it from the next step on.
        expect(learningRate(spec, total - decay - 1)).toBe(1);
        expect(learningRate(spec, total - decay)).toBe(1);
        if (decay > 1) expect(learningRate(spec, total - decay + 1)).toBeLessThan(1);
        expect(learningRate(spec, total)).toBeCloseTo(0, 12);
      }),
      { numRuns: 200 },
    );
    expect(wsdSchedule(3e-3, 1000, 0.02, 0.1)).toEqual({ kind: 'wsd', lr: 3e-3, warmup: 20, total: 1000, decayFraction: 100 / 980, minRatio: 0 });
  });
});
