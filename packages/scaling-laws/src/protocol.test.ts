import { describe, expect, it } from 'vitest';
import { TWO_SIZES_WARNING } from './fit.js';
import { evaluateFamilies, evaluateFamily } from './protocol.js';
import { readDataset } from './read.js';
import { GPT3_CSV, OPT_CSV } from './testing/shared-data.js';
import { chinchillaPoints } from './testing/synthetic.js';

describe("the Hitchhiker's Guide protocol", () => {
  it('predicts GPT-3 175B from the seven smaller models within about 3%', () => {
    const [gpt3] = evaluateFamilies(readDataset(GPT3_CSV));
    expect(gpt3.family).toBe('GPT-3');
    expect(gpt3.target).toMatchObject({ model: 'GPT-3 175b', params: 175e9 });
    expect(gpt3.trainModels).toHaveLength(7);
    expect(gpt3.test.every((t) => t.tokens > 0.7 * gpt3.target.maxTokens)).toBe(true);
    expect(gpt3.are).toBeGreaterThan(0.005);
    expect(gpt3.are).toBeLessThan(0.035);
  });

  it('predicts OPT 175B from the five smaller models', () => {
    const [opt] = evaluateFamilies(readDataset(OPT_CSV));
    expect(opt.target.model).toBe('OPT-175b');
    expect(opt.trainModels.map((m) => m.model)).toEqual(['OPT-125m', 'OPT-1.3b', 'OPT-6.7b', 'OPT-13b', 'OPT-30b']);
    expect(opt.are).toBeLessThan(0.05);
  });

  it('applies the options: early checkpoints, partial runs and the number of smaller models', () => {
    const law = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 };
    const points = chinchillaPoints(law, [1e8, 3e8, 1e9, 3e9, 1e10], [2, 5, 10, 20, 40, 80], 1e-3, 5);
    const all = evaluateFamily(points, 'synthetic', { minTokens: 0 });
    expect(all.target.params).toBe(1e10);
    expect(all.test.map((t) => t.tokens)).toEqual([80e10]); // 40e10 is 50% of the run, not past 70%
    expect(all.are).toBeLessThan(0.01);
    const early = evaluateFamily(points, 'synthetic', { minTokens: 1e9 });
    expect(early.trainModels.reduce((s, m) => s + m.points, 0)).toBeLessThan(all.trainModels.reduce((s, m) => s + m.points, 0));
    const partial = evaluateFamily(points, 'synthetic', { minTokens: 0, trainFraction: 0.5 });
    expect(partial.trainModels.every((m) => m.points === 5)).toBe(true);
    const three = evaluateFamily(points, 'synthetic', { minTokens: 0, smallerModels: 3 });
    expect(three.trainModels.map((m) => m.params)).toEqual([3e8, 1e9, 3e9]);
    const two = evaluateFamily(points, 'synthetic', { smallerModels: 2, minTokens: 0 });
    expect(two.fit.warnings).toEqual([TWO_SIZES_WARNING]);
    expect(() => evaluateFamily(points, 'synthetic', { smallerModels: 1, minTokens: 0 })).toThrow(
      'family synthetic: smaller models with checkpoints past 0 tokens: expected at least 2 sizes (the largest model is the target), found 1',
    );
  });
});
