import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { firstReach, flopSaving, valueAt } from './saving.js';

describe('flopSaving', () => {
  // Baseline: 4 → 3.0 over 100 FLOPs. Pipeline: reaches 3.0 between x = 40 (3.2) and x = 60 (2.8).
  const baseline = [{ x: 25, y: 4 }, { x: 50, y: 3.5 }, { x: 100, y: 3 }];
  const pipeline = [{ x: 20, y: 3.8 }, { x: 40, y: 3.2 }, { x: 60, y: 2.8 }, { x: 80, y: 2.7 }];

  it('interpolates the crossing linearly and gives the saving', () => {
    const s = flopSaving(pipeline, baseline);
    expect(s.targetLoss).toBe(3);
    expect(s.baselineFlops).toBe(100);
    expect(s.pipelineFlops).toBeCloseTo(50, 10);
    expect(s.saving).toBeCloseTo(0.5, 10);
  });

  it('says not reached when the pipeline never gets to the baseline\'s final loss', () => {
    const s = flopSaving(pipeline.map((p) => ({ ...p, y: p.y + 1 })), baseline);
    expect(s.pipelineFlops).toBeUndefined();
    expect(s.saving).toBeUndefined();
  });

  it('is negative when the pipeline needs more compute than the baseline', () => {
    const s = flopSaving([{ x: 50, y: 3.5 }, { x: 150, y: 2.5 }], baseline);
    expect(s.pipelineFlops).toBeCloseTo(100, 10);
    expect(s.saving).toBeCloseTo(0, 10);
    expect(flopSaving([{ x: 100, y: 3.5 }, { x: 300, y: 2.5 }], baseline).saving).toBeCloseTo(-1, 10);
  });

  it('compares at equal compute: the baseline\'s loss interpolated at the pipeline\'s last evaluation', () => {
    const s = flopSaving(pipeline, baseline);
    expect(s.pipelineFinal).toEqual({ x: 80, y: 2.7 });
    expect(s.baselineAtPipelineFlops).toBeCloseTo(3.2, 10);
    expect(valueAt(baseline, 10)).toBeUndefined();
    expect(valueAt(baseline, 150)).toBeUndefined();
    expect(valueAt(baseline, 50)).toBe(3.5);
  });

  it('a curve that starts below the target reaches it at its first point', () => {
    expect(firstReach([{ x: 7, y: 1 }, { x: 9, y: 0.5 }], 2)).toBe(7);
  });

  it('the crossing lies between the evaluations around it (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.01, max: 10, noNaN: true }), { minLength: 2, maxLength: 12 }), fc.double({ min: 0, max: 12, noNaN: true }), (losses, target) => {
        const curve = losses.map((y, i) => ({ x: (i + 1) * 10, y }));
        const x = firstReach(curve, target);
        const i = curve.findIndex((p) => p.y <= target);
        if (i < 0) return x === undefined;
        if (i === 0) return x === curve[0].x;
        return x !== undefined && x > curve[i - 1].x - 1e-9 && x <= curve[i].x + 1e-9;
      }),
      { numRuns: 25 },
    );
  });
});
