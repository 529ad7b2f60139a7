import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { UserError } from '../errors.js';
import { createRng, restoreRng } from './rng.js';

describe('rng', () => {
  it('matches the xoshiro128** reference sequence from state [1, 2, 3, 4]', () => {
    const rng = restoreRng([1, 2, 3, 4]);
    expect([rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()]).toEqual([11520, 0, 5927040, 70819200]);
  });

  it('is reproducible from a seed and differs between seeds (including the high 32 bits)', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, ((rng) => () => rng.nextU32())(createRng(seed)));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1)).not.toEqual(draw(1 + 2 ** 32));
  });

  it('continues identically after state() → JSON → restoreRng', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.nat(50), (seed, skip) => {
        const a = createRng(seed);
        for (let i = 0; i < skip; i++) a.nextU32();
        const b = restoreRng(JSON.parse(JSON.stringify(a.state())));
        for (let i = 0; i < 20; i++) expect(b.nextU32()).toBe(a.nextU32());
      }),
    );
  });

  it('produces floats in [0, 1) and unbiased-looking integers in [0, n)', () => {
    const rng = createRng(7);
    const counts = new Array(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = rng.nextFloat();
      min = Math.min(min, f);
      max = Math.max(max, f);
      counts[rng.nextInt(10)]++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    // Each bucket expects 10 000 with σ ≈ 95; 6σ bounds make a false failure negligible.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(600);
    expect(() => rng.nextInt(0)).toThrow(RangeError);
  });

  it('rejects malformed seeds and states', () => {
    expect(() => createRng(1.5)).toThrow(UserError);
    expect(() => restoreRng([1, 2, 3])).toThrow(/four unsigned 32-bit integers/);
    expect(() => restoreRng([1, 2, 3, 2 ** 32])).toThrow(UserError);
    expect(() => restoreRng([0, 0, 0, 0])).toThrow(/non-zero/);
  });

  it('normal() draws mean 0, variance 1 and the normal tail; the same seed and stream give the same draws', () => {
    const rng = createRng(3);
    const n = 100_000;
    let sum = 0;
    let sq = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      expect(Number.isFinite(x)).toBe(true);
      sum += x;
      sq += x * x;
      if (Math.abs(x) > 2) beyond2++;
    }
    // Standard errors: mean 1/√n ≈ 0.0032, variance √(2/n) ≈ 0.0045, P(|x|>2) = 0.0455 ± 0.0007; 6σ bounds.
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.027);
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.004);
    const draw = (seed: number, stream?: string) => Array.from({ length: 6 }, ((r) => () => r.normal())(createRng(seed, stream)));
    expect(draw(5, 'model.layers.0.block_sparse_moe.gate.weight')).toEqual(draw(5, 'model.layers.0.block_sparse_moe.gate.weight'));
    expect(draw(5, 'a')).not.toEqual(draw(5, 'b'));
    expect(draw(5, '')).toEqual(draw(5)); // the plain seed is the '' stream: data order is unchanged
  });
});
