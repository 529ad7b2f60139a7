import { describe, expect, it } from 'vitest';
import { lbfgs } from './lbfgs.js';

describe('lbfgs', () => {
  it('minimises the Rosenbrock function from the classic start', () => {
    const r = lbfgs((x, g) => {
      const [a, b] = [x[0], x[1]];
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    }, [-1.2, 1]);
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
    expect(r.iterations).toBeLessThan(100);
  });

  it('solves an ill-conditioned quadratic in 10 dimensions', () => {
    const scale = Array.from({ length: 10 }, (_, i) => 10 ** (i / 3));
    const r = lbfgs((x, g) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        f += 0.5 * scale[i] * (x[i] - i) ** 2;
        g[i] = scale[i] * (x[i] - i);
      }
      return f;
    }, new Array(10).fill(0));
    r.x.forEach((v, i) => expect(v).toBeCloseTo(i, 6));
    expect(r.reason === 'gradient' || r.reason === 'objective').toBe(true);
  });

  it('is deterministic', () => {
    const f = (x: Float64Array, g: Float64Array) => {
      g[0] = 4 * x[0] ** 3 - 3;
      return x[0] ** 4 - 3 * x[0];
    };
    expect(Array.from(lbfgs(f, [2]).x)).toEqual(Array.from(lbfgs(f, [2]).x));
  });
});
