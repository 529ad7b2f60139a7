import { describe, expect, it } from 'vitest';
import { TWO_SIZES_WARNING } from './fit.js';
import { evaluateFamily } from './protocol.js';
import { runFamily } from './testing/synthetic.js';

// Runs logged like metrics.jsonl: 50 evenly spaced checkpoints, 20 tokens per parameter, 0.3% noise.
const SMALL = { A: 40, B: 60, E: 1.2, alpha: 0.3, beta: 0.3 }; // tiny models: 2e4–5e5 params, 4e5–1e7 tokens
const LLM = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 }; // 1e8–1e10 params, 2e9–2e11 tokens
const scales = [
  { scale: 'small (1e5–1e7 tokens)', law: SMALL, five: [2e4, 5e4, 1e5, 2e5, 5e5], three: [2e4, 1e5, 5e5] },
  { scale: 'LLM (1e9–1e11 tokens)', law: LLM, five: [1e8, 3e8, 1e9, 3e9, 1e10], three: [1e8, 1e9, 1e10] },
];

describe.each(scales)('the protocol with default options at $scale scale', ({ law, five, three }) => {
  it('predicts the largest of 5 sizes from the other 4 within 1%, dropping the first 10% of each run', () => {
    const e = evaluateFamily(runFamily(law, five, 20, 50, 3e-3, 1), 'f');
    expect(e.cutoff).toEqual({ kind: 'relative', fraction: 0.1 });
    expect(e.trainModels.map((m) => m.points)).toEqual([45, 45, 45, 45]); // checkpoints 1–5 of 50 dropped
    expect(e.fit.warnings).toEqual([]);
    expect(e.fit.params.alpha).toBeCloseTo(law.alpha, 1);
    expect(e.are).toBeLessThan(0.01);
  });

  it('fits from 2 smaller sizes with a warning, and within 1% once alpha is fixed from elsewhere', () => {
    const points = runFamily(law, three, 20, 50, 3e-3, 2);
    const free = evaluateFamily(points, 'f');
    expect(free.trainModels).toHaveLength(2);
    expect(free.fit.warnings).toEqual([TWO_SIZES_WARNING]);
    const fixed = evaluateFamily(points, 'f', { fixed: { alpha: law.alpha } });
    expect(fixed.fit.warnings).toEqual([]);
    expect(fixed.fit.params.alpha).toBe(law.alpha);
    expect(fixed.fit.fixed).toEqual({ alpha: law.alpha });
    expect(fixed.are).toBeLessThan(0.01);
  });
});

describe('the early-checkpoint cut-off', () => {
  it('an absolute --min-tokens suited to LLMs leaves small runs nothing, and says so', () => {
    const points = runFamily(SMALL, [2e4, 5e4, 1e5, 2e5], 20, 20, 1e-3, 3);
    expect(() => evaluateFamily(points, 'tiny', { minTokens: 1e10 })).toThrow(
      'family tiny: smaller models with checkpoints past 10000000000 tokens: expected at least 2 sizes (the largest model is the target), found 0',
    );
    const absolute = evaluateFamily(points, 'tiny', { minTokens: 3e5 });
    expect(absolute.cutoff).toEqual({ kind: 'absolute', tokens: 3e5 });
    // Checkpoints every 2e4, 5e4 and 1e5 tokens: past 3e5 are the last 5, 14 and 17 of 20.
    expect(absolute.trainModels.map((m) => m.points)).toEqual([5, 14, 17]);
  });

  it('a relative cut-off of 0 keeps every checkpoint; fractions outside [0, 1) are refused', () => {
    const points = runFamily(SMALL, [2e4, 5e4, 1e5, 2e5], 20, 20, 1e-3, 4);
    expect(evaluateFamily(points, 'f', { earlyFraction: 0 }).trainModels.map((m) => m.points)).toEqual([20, 20, 20]);
    expect(evaluateFamily(points, 'f', { earlyFraction: 0.5 }).trainModels.map((m) => m.points)).toEqual([10, 10, 10]);
    expect(() => evaluateFamily(points, 'f', { earlyFraction: 1 })).toThrow('early fraction: expected a fraction in [0, 1), found 1');
  });
});
