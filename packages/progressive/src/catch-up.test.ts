import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { catchUp, trailingMean } from './catch-up.js';

const line = (xs: number[], f: (x: number) => number) => xs.map((x) => ({ x, y: f(x) }));

describe('catchUp', () => {
  it('finds where the grown curve meets the reference after the growth, interpolated between evaluations', () => {
    const reference = line([0, 100, 200, 300, 400], (x) => 3 - x / 200);
    // Grown at 100: 0.3 above the reference, closing 0.1 every 50.
    const grown = line([150, 200, 250, 300, 350, 400], (x) => 3 - x / 200 + 0.3 - ((x - 150) / 50) * 0.1 + 0.05);
    const c = catchUp(grown, reference, 100);
    expect(c.x).toBeCloseTo(325, 9);
    expect(c.after).toBeCloseTo(225, 9);
    expect(c.finalGap).toBeCloseTo(-0.15, 9);
  });

  it('reports no catch-up (and the gap left) when the grown curve stays above, and 0 after its first point when it starts below', () => {
    const reference = line([0, 100, 200], () => 2);
    expect(catchUp(line([120, 200], () => 2.5), reference, 100)).toEqual({ finalGap: 0.5 });
    expect(catchUp(line([100, 200], () => 1.5), reference, 100)).toEqual({ x: 100, after: 0, finalGap: -0.5 });
    // Points before the growth and beyond the reference are not compared.
    const stays = catchUp(line([50, 150, 300], (x) => (x < 100 ? 1 : 2.2)), reference, 100);
    expect(stays.x).toBeUndefined();
    expect(stays.finalGap).toBeCloseTo(0.2, 12);
  });

  it('with hold, a crossing must stay at or below for that many points (or to the end)', () => {
    const reference = line([0, 10, 20, 30, 40, 50, 60], () => 0);
    const gaps = [0.3, -0.1, 0.2, 0.1, -0.05, -0.2, -0.1];
    const grown = gaps.map((y, i) => ({ x: i * 10, y }));
    expect(catchUp(grown, reference, 0).x).toBeCloseTo(7.5, 9);
    // The dip at 10 lasts one point; from 40 on it stays below (3 points, to the end).
    expect(catchUp(grown, reference, 0, 2).x).toBeCloseTo(30 + (0.1 / 0.15) * 10, 9);
    expect(catchUp(grown, reference, 0, 3).x).toBeCloseTo(30 + (0.1 / 0.15) * 10, 9);
    expect(catchUp(grown, reference, 0, 4).x).toBeCloseTo(30 + (0.1 / 0.15) * 10, 9);
  });

  it('the crossing lies between the last grown point above and the first at or below (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 20 }), (gaps) => {
        const reference = line(gaps.map((_, i) => i * 10), () => 0);
        const grown = gaps.map((g, i) => ({ x: i * 10, y: g }));
        const c = catchUp(grown, reference, 0);
        const first = gaps.findIndex((g) => g <= 0);
        if (first < 0) {
          expect(c.x).toBeUndefined();
          return;
        }
        expect(c.x!).toBeLessThanOrEqual(first * 10);
        expect(c.x!).toBeGreaterThanOrEqual(Math.max(0, first - 1) * 10);
      }),
    );
  });
});

describe('trailingMean', () => {
  it('averages the last `window` values (fewer at the start)', () => {
    expect(trailingMean([2, 4, 6, 8, 10], 2)).toEqual([2, 3, 5, 7, 9]);
    expect(trailingMean([1, 2, 3], 5)).toEqual([1, 1.5, 2]);
  });
});
