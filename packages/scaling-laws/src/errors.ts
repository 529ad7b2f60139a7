/**
 * An error caused by the input (a data file, a law file, an option), not by a bug.
 * Its message is one line: `<what>: expected <expected>, found <found>`.
 */
export class ScalingLawError extends Error {
  override name = 'ScalingLawError';
}

/** Builds the one-line message `<what>: expected <expected>, found <found>`. */
export function mismatch(what: string, expected: string, found: string): ScalingLawError {
  return new ScalingLawError(`${what}: expected ${expected}, found ${found}`);
}
