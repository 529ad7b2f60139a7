import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { curveTheta, getCurveLaw } from './curve-laws.js';
import { predictContinuation, predictCurve } from './curve-predict.js';
import { testSchedule } from './testing/curves.js';

const ANNEALING = { L0: 2, A: 0.4, alpha: 0.6, C: 0.5, lambda: 0.98 };
const MULTIPOWER = { L0: 2, A: 0.4, alpha: 0.6, B: 150, C: 1.5, beta: 0.6, gamma: 0.5 };

describe('predictContinuation (a run that starts from a transformed model)', () => {
  it('started at the law\'s own loss, it is the law\'s curve from there on, whatever the schedule and law', () => {
    fc.assert(
      fc.property(fc.constantFrom('annealing' as const, 'multipower' as const), fc.constantFrom('cosine', 'wsd', 'constant'), fc.integer({ min: 50, max: 900 }), (law, kind, startStep) => {
        const params = law === 'annealing' ? ANNEALING : MULTIPOWER;
        const est = { law, joint: false, theta: curveTheta(getCurveLaw(law), false, params) };
        const lr = testSchedule(kind === 'wsd' ? { kind, decayFraction: 0.2, minRatio: 0.1 } : kind === 'cosine' ? { kind, minRatio: 0.1 } : { kind: 'constant' }, 1000, 3e-3, 10);
        const startLoss = predictCurve(est, lr, { steps: [startStep] }).loss[0];
        const steps = [startStep + 1, Math.round((startStep + 1000) / 2), 1000].filter((s, i, a) => s > startStep && a.indexOf(s) === i);
        const cont = predictContinuation(est, lr, { startStep, startLoss, steps });
        const plain = predictCurve(est, lr, { steps });
        cont.loss.forEach((v, i) => expect(v).toBeCloseTo(plain.loss[i], 9));
        expect(cont.effectiveArea).toBeCloseTo(lr.slice(0, startStep).reduce((a, b) => a + b, 0), 6);
      }),
      { numRuns: 30, seed: 4 },
    );
  });

  it('a lower start loss means more LR area transferred and a lower curve, never below the law\'s floor', () => {
    const est = { law: 'annealing' as const, joint: false, theta: curveTheta(getCurveLaw('annealing'), false, ANNEALING) };
    const lr = testSchedule({ kind: 'wsd', decayFraction: 0.2, minRatio: 0 }, 1000, 3e-3, 10);
    const at = (startLoss: number) => predictContinuation(est, lr, { startStep: 400, startLoss, steps: [1000] });
    const [high, mid, low] = [2.6, 2.4, 2.2].map(at);
    expect(high.effectiveArea).toBeLessThan(mid.effectiveArea);
    expect(mid.effectiveArea).toBeLessThan(low.effectiveArea);
    expect(high.loss[0]).toBeGreaterThan(mid.loss[0]);
    expect(mid.loss[0]).toBeGreaterThan(low.loss[0]);
    const floor = at(1.0); // below L0: the curve is at its floor less the annealing still to come
    expect(floor.effectiveArea).toBe(Number.POSITIVE_INFINITY);
    expect(floor.loss[0]).toBeLessThan(ANNEALING.L0);
  });
});
