import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { evaluateFamily } from './protocol.js';
import { handleSizeChanges, sizeChangeText } from './size-changes.js';
import { runFamily, trainingRun } from './testing/synthetic.js';
import type { Point } from './points.js';

const LAW = { A: 40, B: 60, E: 1.2, alpha: 0.3, beta: 0.3 };

/** A progressive run: `from` parameters until `at` of its tokens, then `to` (logged like metrics.jsonl). */
function grownRun(model: string, from: number, to: number, maxTokens: number, steps: number, at: number, seed: number): Point[] {
  const run = trainingRun(LAW, model, to, maxTokens, steps, 1e-3, seed);
  return run.map((p) => (p.tokens <= at * maxTokens ? { ...p, params: from, loss: p.loss * 1.05 } : p));
}

describe('handleSizeChanges', () => {
  it('keeps a grown run from its last size change on and says what it dropped', () => {
    const points = [...trainingRun(LAW, 'plain', 1e5, 2e6, 10, 1e-3, 1), ...grownRun('grown', 5e4, 2e5, 4e6, 20, 0.25, 2)];
    const { points: kept, changes } = handleSizeChanges(points);
    expect(changes).toEqual([{ model: 'grown', sizes: [5e4, 2e5], keptFromTokens: 1.2e6, kept: 15, dropped: 5 }]);
    expect(kept.filter((p) => p.model === 'grown').every((p) => p.params === 2e5)).toBe(true);
    expect(kept.filter((p) => p.model === 'plain')).toHaveLength(10);
    expect(sizeChangeText(changes[0])).toBe('grown: 5.00e+4 → 2.00e+5 parameters; kept its 15 records from 1200000 tokens on (dropped 5)');
  });

  it('uses the last change of a run that grew twice, in token order whatever the file order', () => {
    const run = trainingRun(LAW, 'twice', 4e5, 1e6, 10, 1e-3, 3).map((p, i) => ({ ...p, params: i < 3 ? 1e5 : i < 6 ? 2e5 : 4e5 }));
    const { points, changes } = handleSizeChanges([...run].reverse());
    expect(changes[0]).toMatchObject({ sizes: [1e5, 2e5, 4e5], kept: 4, dropped: 6, keptFromTokens: 7e5 });
    expect(points.map((p) => p.tokens).sort((a, b) => a - b)).toEqual([7e5, 8e5, 9e5, 1e6]);
  });

  it("leaves runs of one size alone (sizes within the clustering tolerance are one size)", () => {
    const points = trainingRun(LAW, 'a', 1e5, 1e6, 5, 1e-3, 4).map((p, i) => ({ ...p, params: 1e5 * (1 + i * 1e-4) }));
    expect(handleSizeChanges(points)).toEqual({ points, changes: [] });
  });

  it("'refuse' names the run, the sizes and where the size changed, in one line", () => {
    const points = grownRun('grown', 5e4, 2e5, 4e6, 20, 0.25, 2).map((p, i) => ({ ...p, where: `runs/grown/metrics.jsonl line ${i + 1}` }));
    expect(() => handleSizeChanges(points, 'refuse')).toThrow(
      'model grown: expected one parameter count (use --size-changes final to fit on its records from the last size change on), found 50000, then 200000 (the size changes at 1200000 tokens, runs/grown/metrics.jsonl line 6)',
    );
    expect(() => handleSizeChanges(points, 'other' as 'final')).toThrow('size-change policy: expected final or refuse, found other');
  });

  it('property: every kept record of a run has its final size, and nothing of a one-size run is dropped', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(1e4, 2e4, 4e4), { minLength: 1, maxLength: 12 }), fc.nat(5), (sizes, plainSteps) => {
        const grown = sizes.map((params, i) => ({ params, tokens: (i + 1) * 100, loss: 3, model: 'g' }));
        const plain = Array.from({ length: plainSteps }, (_, i) => ({ params: 8e4, tokens: (i + 1) * 100, loss: 3, model: 'p' }));
        const { points, changes } = handleSizeChanges([...plain, ...grown]);
        const keptGrown = points.filter((p) => p.model === 'g');
        expect(keptGrown.every((p) => p.params === sizes[sizes.length - 1])).toBe(true);
        expect(keptGrown.length).toBeGreaterThan(0);
        expect(points.filter((p) => p.model === 'p')).toHaveLength(plainSteps);
        expect(changes.length).toBe(new Set(sizes).size > 1 ? 1 : 0);
      }),
      { numRuns: 25, seed: 15 },
    );
  });
});

describe('evaluate on a family with grown runs', () => {
  it('fits and scores with the grown target and a grown smaller run at their final sizes, and reports them', () => {
    const points = [
      ...runFamily(LAW, [2e4, 5e4, 1e5], 20, 30, 1e-3, 5),
      ...grownRun('grown-2e5', 1e5, 2e5, 4e6, 30, 0.2, 9),
      ...grownRun('grown-5e5', 2e5, 5e5, 1e7, 30, 0.3, 10),
    ];
    const e = evaluateFamily(points, 'f');
    expect(e.target).toMatchObject({ model: 'grown-5e5', params: 5e5 });
    expect(e.trainModels.map((m) => m.params)).toEqual([2e4, 5e4, 1e5, 2e5]);
    expect(e.sizeChanges.map((c) => [c.model, c.dropped])).toEqual([
      ['grown-2e5', 6],
      ['grown-5e5', 9],
    ]);
    expect(e.test.length).toBe(9); // the target's checkpoints past 70% of its tokens
    expect(e.are).toBeLessThan(0.02);
    expect(() => evaluateFamily(points, 'f', { sizeChanges: 'refuse' })).toThrow(/^model grown-2e5: expected one parameter count/);
  });
});
