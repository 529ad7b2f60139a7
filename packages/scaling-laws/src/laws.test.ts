import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fitLaw } from './fit.js';
import { LAW_NAMES, getLaw, paramsToTheta, predictWithTheta, thetaToParams } from './laws.js';
import { mulberry32, normal } from './random.js';

describe('law forms', () => {
  it.each(LAW_NAMES)('%s: the analytic gradient matches central differences', (name) => {
    const law = getLaw(name);
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: law.thetaNames.length, maxLength: law.thetaNames.length }),
        fc.double({ min: 15, max: 25, noNaN: true }),
        fc.double({ min: 18, max: 28, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        (noise, logN, logD, epochs) => {
          // A plausible theta: constants around e^5, exponents around 0.3, R* around e^2.5.
          const theta = noise.map((v, i) => (law.logScaled[i] ? (law.thetaNames[i] === 'e' ? 0.5 : law.thetaNames[i] === 'r' ? 2.5 : 5) : 0.3) + v * 0.2);
          const logU = logD - epochs;
          const grad = new Float64Array(theta.length);
          const y = law.logPredict(theta, logN, logD, grad, logU);
          expect(Number.isFinite(y)).toBe(true);
          theta.forEach((_, j) => {
            const h = 1e-6;
            const up = [...theta];
            const down = [...theta];
            up[j] += h;
            down[j] -= h;
            const numeric = (law.logPredict(up, logN, logD, undefined, logU) - law.logPredict(down, logN, logD, undefined, logU)) / (2 * h);
            expect(Math.abs(grad[j] - numeric)).toBeLessThan(1e-6 * Math.max(1, Math.abs(numeric)));
          });
        },
      ),
      { numRuns: 50, seed: 9 },
    );
  });

  it('round-trips natural and log-space parameters and rejects a non-positive constant', () => {
    const law = getLaw('chinchilla');
    const params = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35 };
    const back = thetaToParams(law, paramsToTheta(law, params));
    for (const [k, v] of Object.entries(params)) expect(back[k]).toBeCloseTo(v, 10);
    expect(() => paramsToTheta(law, { ...params, E: 0 })).toThrow('law parameter E: expected a positive number, found 0');
    expect(() => getLaw('kaplan')).toThrow('law: expected one of chinchilla, params, compute, repetition, found "kaplan"');
  });

  it('repetition: equals Chinchilla without repeated data and recovers R* from repeated runs', () => {
    const rep = getLaw('repetition');
    const truth = { A: 400, B: 1500, E: 1.9, alpha: 0.33, beta: 0.35, Rstar: 15 };
    const theta = paramsToTheta(rep, truth);
    expect(predictWithTheta(rep, theta, 1e9, 2e10)).toBeCloseTo(predictWithTheta(getLaw('chinchilla'), theta.slice(0, 5), 1e9, 2e10), 12);
    // Runs of 4 sizes, each on 3 unique-data budgets repeated for 1 to 32 epochs.
    const rand = mulberry32(2);
    const points = [1e8, 3e8, 1e9, 3e9].flatMap((N) =>
      [N * 2, N * 5, N * 10].flatMap((U) =>
        [1, 2, 4, 8, 16, 32].map((epochs) => {
          const D = U * epochs;
          return { params: N, tokens: D, uniqueTokens: U, loss: predictWithTheta(rep, theta, N, D, U) * Math.exp(1e-4 * normal(rand)) };
        }),
      ),
    );
    const fit = fitLaw(points, { law: 'repetition' });
    expect(Math.abs(fit.params.Rstar / truth.Rstar - 1)).toBeLessThan(0.15);
    expect(fit.params.beta).toBeCloseTo(truth.beta, 1);
    // Repeated data is worth less than fresh data of the same size.
    const repeated = predictWithTheta(rep, fit.theta, 1e9, 1e11, 1e10);
    expect(repeated).toBeGreaterThan(predictWithTheta(rep, fit.theta, 1e9, 1e11));
  });
});
