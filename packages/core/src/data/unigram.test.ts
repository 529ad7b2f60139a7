import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { unigramEntropy } from './unigram.js';

describe('unigramEntropy', () => {
  it('is 0 for a constant stream and ln(k) for k equally frequent tokens', () => {
    expect(unigramEntropy(new Int32Array([3, 3, 3]), 8)).toBe(0);
    expect(unigramEntropy(new Int32Array([0, 1, 2, 3, 0, 1, 2, 3]), 8)).toBeCloseTo(Math.log(4), 12);
  });

  it('matches the definition for skewed counts', () => {
    // p = (3/4, 1/4)
    expect(unigramEntropy(new Int32Array([5, 5, 5, 1]), 6)).toBeCloseTo(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25)), 12);
  });

  it('rejects empty input and out-of-vocabulary ids', () => {
    expect(() => unigramEntropy(new Int32Array(0), 4)).toThrow(UserError);
    expect(() => unigramEntropy(new Int32Array([1, 4]), 4)).toThrow(/token id at position 1: expected an id in \[0, 4\), found 4/);
  });
});
