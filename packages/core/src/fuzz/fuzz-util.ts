/** Shared pieces of the fuzz tests: the run count, the seed, JSON-ish values and the accept-or-UserError check. */
import * as fc from 'fast-check';
import { expect } from 'vitest';
import { UserError } from '../errors.js';

/** Cases per fuzzer: a quick default for CI, more with EFFICIENTSCALE_FUZZ_RUNS. */
export const fuzzRuns = (ciDefault: number): number => {
  const n = Number(process.env.EFFICIENTSCALE_FUZZ_RUNS);
  return Number.isSafeInteger(n) && n > 0 ? n : ciDefault;
};
/** A whole fuzz test's time limit: the CI figure, scaled up when EFFICIENTSCALE_FUZZ_RUNS asks for more cases. */
export const fuzzTimeout = (runs: number, ciDefault: number, ciMs: number): number => Math.max(ciMs, Math.ceil((ciMs * runs) / ciDefault));
/** Lets vitest's worker answer its RPC between cases: a long synchronous run of cases times it out ("onTaskUpdate"). */
export const yieldToVitest = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
export const FUZZ_SEED = Number(process.env.EFFICIENTSCALE_FUZZ_SEED ?? 20261203);
/** Longest one case may take; a case that cannot finish is a hang, whatever it returns. */
export const CASE_LIMIT_MS = 5000;

/** Values a mutated JSON file may hold where a number, string or object was. */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 2, 3, 4, 7, 8, 16, 0.5, 1.5, 1e-9, 1e9, 2 ** 31, 2 ** 32, 2 ** 53, 1e308, -1e308, '', '8', 'x', null, true, false, [], {}, [8], { a: 1 }),
  fc.integer({ min: -8, max: 80 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string({ maxLength: 6 }),
);

export interface Tally {
  accepted: number;
  refused: number;
  skipped: number;
  slowestMs: number;
  /** Accepted resumes checked bit-identical to a clean resume (trainer-state fuzz only). */
  sameAsClean: number;
}
export const newTally = (): Tally => ({ accepted: 0, refused: 0, skipped: 0, slowestMs: 0, sameAsClean: 0 });

/**
 * Runs one case: `run` either returns (accepted, 'skipped' when too large to exercise) or throws a
 * one-line UserError. Any other exception, or a case over CASE_LIMIT_MS, fails the property.
 */
export function classify(tally: Tally, run: () => 'accepted' | 'skipped'): void {
  const started = performance.now();
  try {
    const outcome = run();
    tally[outcome]++;
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    expect(err.message).not.toContain('\n');
    tally.refused++;
  }
  const ms = performance.now() - started;
  tally.slowestMs = Math.max(tally.slowestMs, ms);
  expect(ms).toBeLessThan(CASE_LIMIT_MS);
}

export function report(name: string, runs: number, tally: Tally, seconds: number): void {
  console.log(
    `fuzz ${name}: ${runs} cases in ${seconds.toFixed(1)} s: ${tally.accepted} accepted and run, ${tally.refused} refused with a UserError, ` +
      `${tally.skipped} accepted but not run (too large, or past the CI cap on real resumes)${tally.sameAsClean ? ` (${tally.sameAsClean} resumes bit-identical to a clean one)` : ''}; slowest case ${tally.slowestMs.toFixed(0)} ms`,
  );
}
