import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { annealingArea, forwardArea, lrDrops } from './lr-areas.js';
import { testSchedule } from './testing/curves.js';

describe('learning-rate areas', () => {
  it('the forward area is the running sum of the LRs, warmup included', () => {
    expect(Array.from(forwardArea([1, 2, 3, 0.5]))).toEqual([1, 3, 6, 6.5]);
  });

  it('a constant schedule, with or without warmup, has no annealing area', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-5, max: 1, noNaN: true }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 60, max: 400 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (peak, warmup, steps, lambda) => {
        const s2 = annealingArea(testSchedule({ kind: 'constant' }, steps, peak, warmup), lambda);
        expect(s2.every((v) => v === 0)).toBe(true);
      }),
    );
  });

  it('a step decay has the closed form Δ·(1 − λ^(s−k+1))/(1 − λ)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 0.01, max: 0.9, noNaN: true }),
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (high, ratio, before, after, lambda) => {
          const lr = [...Array(before).fill(high), ...Array(after).fill(high * ratio)];
          const s2 = annealingArea(lr, lambda);
          const k = before; // 0-based index of the first step at the lower LR
          const drop = high - high * ratio;
          lr.forEach((_, s) => {
            const expected = s < k ? 0 : (drop * (1 - lambda ** (s - k + 1))) / (1 - lambda);
            expect(s2[s]).toBeCloseTo(expected, 9);
          });
        },
      ),
    );
  });

  it('with λ = 0 the annealing area is the drop from the peak', () => {
    const lr = testSchedule({ kind: 'cosine', minRatio: 0.1 }, 100, 2, 10);
    const s2 = annealingArea(lr, 0);
    lr.forEach((v, i) => expect(s2[i]).toBeCloseTo(i < 10 ? 0 : 2 - v, 12));
  });

  it('a re-warmup after a decay counts as a negative drop; the first warmup counts nothing', () => {
    expect(Array.from(lrDrops([0.5, 1, 1, 0.5, 0.5, 1]))).toEqual([0, 0, 0, 0.5, 0, -0.5]);
  });

  it('refuses λ outside [0, 1)', () => {
    expect(() => annealingArea([1, 0.5], 1)).toThrow(/annealing decay lambda: expected a number in \[0, 1\), found 1/);
  });
});
