import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bootstrapFit } from './bootstrap.js';
import { dropEarlyCheckpoints } from './early.js';
import { fitLaw } from './fit.js';
import { resolveFixed } from './fixed.js';
import { readDataset } from './read.js';
import { chinchillaPoints, trainingRun } from './testing/synthetic.js';

const LAW = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 };

describe('fixed parameters', () => {
  it('holds the given parameters exactly and fits the rest', () => {
    const points = chinchillaPoints(LAW, [2e7, 6e7, 2e8, 6e8], [5, 10, 20, 40], 1e-4, 1);
    const fit = fitLaw(points, { fixed: { alpha: 0.33, beta: 0.35 } });
    expect(fit.params.alpha).toBe(0.33);
    expect(fit.params.beta).toBe(0.35);
    expect(fit.fixed).toEqual({ alpha: 0.33, beta: 0.35 });
    expect(fit.params.E).toBeCloseTo(1.9, 2);
    expect(fit.params.A / 400).toBeCloseTo(1, 1);
    // A wrong exponent held fixed makes the fit worse than a free one: the constraint is really applied.
    expect(fitLaw(points, { fixed: { alpha: 0.6 } }).objective).toBeGreaterThan(fitLaw(points).objective * 10);
  });

  it('bootstrap refits keep the fixed parameters of the full fit', () => {
    const points = chinchillaPoints(LAW, [2e7, 6e7, 2e8, 6e8], [5, 10, 20], 1e-3, 2);
    const boot = bootstrapFit(points, fitLaw(points, { fixed: { beta: 0.35 } }), { samples: 5 });
    expect(boot.thetas.map((t) => t[4])).toEqual([0.35, 0.35, 0.35, 0.35, 0.35]);
    expect(boot.intervals.beta).toEqual([0.35, 0.35]);
    expect(boot.intervals.alpha[1]).toBeGreaterThan(boot.intervals.alpha[0]);
  });

  it('reads back any name=value list it is given', () => {
    fc.assert(
      fc.property(fc.double({ min: -10, max: 10, noNaN: true }).filter((x) => !Object.is(x, -0)), fc.double({ min: 1e-6, max: 1e6, noNaN: true }), (alpha, E) => {
        expect(resolveFixed(`alpha=${alpha}, E = ${E}`)).toEqual({ alpha, E });
      }),
      { numRuns: 20 },
    );
  });

  it('refuses unknown names, bad values and fixing everything', () => {
    const points = chinchillaPoints(LAW, [2e7, 6e7, 2e8], [5, 10], 0, 1);
    expect(() => fitLaw(points, { fixed: { gamma: 1 } })).toThrow('fixed parameter "gamma": expected one of A, B, E, alpha, beta, found "gamma"');
    expect(() => fitLaw(points, { fixed: { E: -1 } })).toThrow('fixed parameter E: expected a positive number, found -1');
    expect(() => fitLaw(points, { law: 'params', fixed: { A: 1, E: 1, alpha: 0.3 } })).toThrow(
      'fixed parameters: expected at least one parameter left to fit, found all fixed',
    );
  });

  it('reads --fix specs, taking bare names and by default the exponents from a prior', () => {
    const prior = { source: 'law.json', params: { A: 1, B: 2, E: 1.8, alpha: 0.34, beta: 0.28 } };
    expect(resolveFixed('alpha=0.3, beta=2.5e-1')).toEqual({ alpha: 0.3, beta: 0.25 });
    expect(resolveFixed(undefined)).toEqual({});
    expect(resolveFixed(undefined, prior)).toEqual({ alpha: 0.34, beta: 0.28 });
    expect(resolveFixed('E,alpha=0.5', prior)).toEqual({ E: 1.8, alpha: 0.5 });
    expect(() => resolveFixed('alpha')).toThrow('--fix alpha: expected a value (name=value) or --prior law.json, found neither');
    expect(() => resolveFixed('alpha=x')).toThrow('--fix alpha: expected a number, found "x"');
    expect(() => resolveFixed('=3')).toThrow('--fix: expected name=value pairs such as alpha=0.34,beta=0.28, found "=3"');
  });
});

describe('run directories', () => {
  const root = mkdtempSync(join(tmpdir(), 'es-runs-'));
  /** A run directory as `efficientscale train` writes it: metrics.jsonl, eval_loss every 5 steps. */
  function writeRun(name: string, params: number, tokens: number): string {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    const lines = trainingRun(LAW, name, params, tokens, 20, 0, 1).map((p, i) =>
      JSON.stringify({ step: i + 1, tokens: p.tokens, flops: 6 * params * p.tokens, params, loss: p.loss, aux_loss: 0, eval_loss: (i + 1) % 5 === 0 ? p.loss + 0.01 : undefined, lr: 1e-3 }),
    );
    writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    return `${dir}/`;
  }

  it("reads a run's metrics.jsonl, named after the directory; eval_loss on request", () => {
    const dir = writeRun('tiny-a', 3e4, 6e5);
    const train = readDataset(dir);
    expect(train).toHaveLength(20);
    expect(train.every((p) => p.model === 'tiny-a' && p.params === 3e4)).toBe(true);
    expect(train[0].where).toBe(`${join(root, 'tiny-a', 'metrics.jsonl')} line 1`);
    const held = readDataset(dir, { lossColumn: 'eval_loss' });
    expect(held.map((p) => p.tokens)).toEqual([5, 10, 15, 20].map((k) => (6e5 * k) / 20));
    expect(held[0].loss).toBeCloseTo(train[4].loss + 0.01, 12);
  });

  it('says what is missing from a directory that is not a run', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(() => readDataset(empty)).toThrow(`${empty}: expected a run directory with metrics.jsonl, or a pipeline output whose stage directories have one, found neither`);
  });
});

describe('dropEarlyCheckpoints', () => {
  it("drops each run's first fraction of its own tokens", () => {
    const points = [...trainingRun(LAW, 'a', 1e6, 1e7, 10, 0, 1), ...trainingRun(LAW, 'b', 1e8, 1e10, 10, 0, 1)];
    const kept = dropEarlyCheckpoints(points, 0.3);
    expect(kept.filter((p) => p.model === 'a').map((p) => p.tokens)).toEqual([4, 5, 6, 7, 8, 9, 10].map((k) => k * 1e6));
    expect(kept.filter((p) => p.model === 'b')).toHaveLength(7);
    expect(dropEarlyCheckpoints(points, 0)).toEqual(points);
    expect(() => dropEarlyCheckpoints(points, -0.1)).toThrow('early fraction: expected a fraction in [0, 1), found -0.1');
  });
});
