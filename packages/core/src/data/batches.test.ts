import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { UserError } from '../errors.js';
import { BatchSampler, evalBatches, splitTrainVal, type Batch } from './batches.js';

const iota = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** With ids = 0..n-1 every row must be a run of consecutive integers, targets one ahead. */
function expectConsecutiveWindows(batch: Batch, batchSize: number, seqLen: number, n: number): number[] {
  const starts: number[] = [];
  for (let row = 0; row < batchSize; row++) {
    const start = batch.inputs[row * seqLen];
    starts.push(start);
    expect(start + seqLen).toBeLessThan(n);
    for (let t = 0; t < seqLen; t++) {
      expect(batch.inputs[row * seqLen + t]).toBe(start + t);
      expect(batch.targets[row * seqLen + t]).toBe(start + t + 1);
    }
  }
  return starts;
}

describe('splitTrainVal', () => {
  it('takes a contiguous tail for validation', () => {
    const { train, val } = splitTrainVal(iota(100), 0.1);
    expect(Array.from(train)).toEqual(Array.from(iota(90)));
    expect(Array.from(val)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
    expect(splitTrainVal(iota(10), 0).val.length).toBe(0);
    expect(() => splitTrainVal(iota(10), 1)).toThrow(UserError);
    expect(() => splitTrainVal(iota(10), NaN)).toThrow(/validation fraction: expected a number in \[0, 1\)/);
  });
});

describe('BatchSampler', () => {
  it('draws in-range windows with targets shifted by one, and can reach the last window', () => {
    const n = 20;
    const sampler = new BatchSampler(iota(n), { batchSize: 4, seqLen: 5, seed: 1 });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) for (const s of expectConsecutiveWindows(sampler.next(), 4, 5, n)) seen.add(s);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n - 5 }, (_, i) => i));
    expect(sampler.state.drawn).toBe(200);
  });

  it('N draws straight equal N/2 draws, then restore from JSON state, then N/2 draws', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 10 }),
        (n, batchSize, seqLen, seed, half) => {
          fc.pre(n >= seqLen + 1);
          const ids = iota(n);
          const opts = { batchSize, seqLen, seed };
          const straight = new BatchSampler(ids, opts);
          const expected = Array.from({ length: 2 * half }, () => straight.next());
          const first = new BatchSampler(ids, opts);
          const got = Array.from({ length: half }, () => first.next());
          const resumed = BatchSampler.restore(ids, opts, JSON.parse(JSON.stringify(first.state)));
          for (let i = 0; i < half; i++) got.push(resumed.next());
          expect(got).toEqual(expected);
          expect(resumed.state).toEqual(straight.state);
        },
      ),
    );
  });

  it('depends on the seed', () => {
    const a = new BatchSampler(iota(1000), { batchSize: 2, seqLen: 8, seed: 1 }).next();
    const b = new BatchSampler(iota(1000), { batchSize: 2, seqLen: 8, seed: 2 }).next();
    expect(a.inputs).not.toEqual(b.inputs);
  });

  it('rejects a corpus shorter than seqLen + 1, naming both numbers', () => {
    expect(() => new BatchSampler(iota(8), { batchSize: 1, seqLen: 8, seed: 0 })).toThrow(
      /training corpus: expected at least seqLen \+ 1 = 9 tokens, found 8 tokens/,
    );
    expect(() => new BatchSampler(iota(8), { batchSize: 0, seqLen: 2, seed: 0 })).toThrow(UserError);
    const opts = { batchSize: 1, seqLen: 2, seed: 0 };
    expect(() => BatchSampler.restore(iota(8), opts, { rng: [0, 0, 0, 0], drawn: 0 })).toThrow(UserError);
  });
});

describe('evalBatches', () => {
  it('returns deterministic full batches of non-overlapping windows spread over the split', () => {
    const n = 1000;
    const batches = evalBatches(iota(n), 4, 10, 3);
    expect(batches).toHaveLength(3);
    expect(evalBatches(iota(n), 4, 10, 3)).toEqual(batches);
    const starts = batches.flatMap((b) => expectConsecutiveWindows(b, 4, 10, n));
    expect(starts.every((s) => s % 10 === 0)).toBe(true);
    expect(new Set(starts).size).toBe(12);
    expect(Math.max(...starts)).toBeGreaterThan(n / 2); // not just the first windows
  });

  it('uses every window when fewer are available than asked for', () => {
    // 41 tokens → 4 windows of 10 (+1 target) → 2 batches of 2; the leftover tokens are unused.
    const starts = evalBatches(iota(41), 2, 10, 100).flatMap((b) => expectConsecutiveWindows(b, 2, 10, 41));
    expect(starts).toEqual([0, 10, 20, 30]);
  });

  it('rejects a split too small for one batch', () => {
    expect(evalBatches(iota(21), 2, 10, 1)).toHaveLength(1);
    expect(() => evalBatches(iota(20), 2, 10, 1)).toThrow(/expected at least batchSize × seqLen \+ 1 = 21 tokens for one batch, found 20 tokens/);
  });
});
