import { describe, expect, it } from 'vitest';
import { bootstrapFit } from './bootstrap.js';
import { fitLaw } from './fit.js';
import { getLaw, paramsToTheta, predictWithTheta } from './laws.js';
import { parseLawFile, toLawFile } from './lawfile.js';
import { planCompute, predictLoss } from './plan.js';
import { chinchillaPoints } from './testing/synthetic.js';

const TRUE = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 };
const points = chinchillaPoints(TRUE, [2e7, 6e7, 2e8, 6e8, 2e9, 6e9], [5, 10, 20, 40, 80], 0.01, 11);

describe('planCompute', () => {
  const est = { law: 'chinchilla' as const, theta: paramsToTheta(getLaw('chinchilla'), TRUE) };

  it('finds the N that minimises L(N, C/6N) and spends the whole budget', () => {
    const C = 1e23;
    const plan = planCompute(est, C);
    const N = plan.params!.value;
    const D = plan.tokens!.value;
    expect(6 * N * D).toBeCloseTo(C, -10);
    const loss = (n: number) => predictWithTheta(getLaw('chinchilla'), est.theta, n, C / (6 * n));
    expect(plan.loss.value).toBeCloseTo(loss(N), 12);
    for (const factor of [0.9, 0.99, 1.01, 1.1]) expect(loss(N * factor)).toBeGreaterThan(loss(N));
  });

  it('gives the loss reachable with the L(C) form and refuses the L(N) form', () => {
    const c = { law: 'compute' as const, theta: [Math.log(50), Math.log(1.7), 0.05] };
    expect(planCompute(c, 1e21).loss.value).toBeCloseTo(1.7 + 50 / 1e21 ** 0.05, 10);
    expect(() => planCompute({ law: 'params', theta: [1, 0, 0.3] }, 1e21)).toThrow(
      'law for planning: expected a form that depends on tokens (chinchilla or compute), found params',
    );
  });
});

describe('bootstrap over models', () => {
  const fit = fitLaw(points);
  const boot = bootstrapFit(points, fit, { samples: 40, seed: 3 });

  it('is deterministic for a seed and covers the true parameters', () => {
    expect(bootstrapFit(points, fit, { samples: 40, seed: 3 }).thetas).toEqual(boot.thetas);
    expect(bootstrapFit(points, fit, { samples: 40, seed: 4 }).thetas).not.toEqual(boot.thetas);
    for (const [name, [lo, hi]] of Object.entries(boot.intervals)) {
      expect(lo, name).toBeLessThanOrEqual(fit.params[name] * (1 + 1e-9));
      expect(hi, name).toBeGreaterThanOrEqual(fit.params[name] * (1 - 1e-9));
      expect(boot.standardErrors[name], name).toBeGreaterThan(0);
    }
    expect(boot.intervals.alpha[0]).toBeLessThan(TRUE.alpha);
    expect(boot.intervals.alpha[1]).toBeGreaterThan(TRUE.alpha);
  });

  it('resamples whole models, counting sizes within 0.5% as one model', () => {
    // Three models; the first one's points carry sizes that differ by 0.1% and no model name.
    const pts = [1e8, 1.001e8, 3e8, 1e9].flatMap((N, i) =>
      [10, 20, 40].map((r) => ({ params: N, tokens: N * r * (i + 1), loss: 1.9 + 400 / N ** 0.33 + 1500 / (N * r * (i + 1)) ** 0.35 })),
    );
    expect(() => bootstrapFit(pts.filter((p) => p.params < 2e8), fitLaw(pts))).toThrow(
      'distinct model sizes: expected at least 2 (the N-exponent needs two sizes to compare), found 1',
    );
    expect(bootstrapFit(pts, fitLaw(pts), { samples: 5 }).thetas).toHaveLength(5);
  });

  it('gives prediction intervals that survive a round trip through a law file', () => {
    const file = parseLawFile(JSON.stringify(toLawFile(fit, boot)), 'law.json');
    const p = predictLoss(file, 7e10, 1.4e12);
    expect(p.value).toBeCloseTo(predictWithTheta(getLaw('chinchilla'), fit.theta, 7e10, 1.4e12), 10);
    const [lo, hi] = p.interval!;
    expect(lo).toBeLessThan(p.value);
    expect(hi).toBeGreaterThan(p.value);
    const truth = TRUE.E + TRUE.A / 7e10 ** TRUE.alpha + TRUE.B / 1.4e12 ** TRUE.beta;
    expect(Math.abs(p.value / truth - 1)).toBeLessThan(0.02);
    const plan = planCompute(file, 1e22);
    expect(plan.params!.interval![0]).toBeLessThan(plan.params!.value);
  });

  it('rejects malformed law files with one-line errors', () => {
    expect(() => parseLawFile('{', 'x.json')).toThrow('x.json: expected a JSON law file written by `efficientscale fit --out`, found text that is not JSON');
    expect(() => parseLawFile('{"format":"other"}', 'x.json')).toThrow('x.json: format: expected "efficientscale.scaling-law", found "other"');
    const bad = { ...toLawFile(fit), params: { ...fit.params, A: -1 } };
    expect(() => parseLawFile(JSON.stringify(bad), 'x.json')).toThrow(/^x\.json: params: expected numbers A, B, E, alpha, beta, found law parameter A/);
  });
});
