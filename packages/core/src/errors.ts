const USER_ERROR = Symbol.for('@efficientscale/core/user-error');

/**
 * An error caused by what the user gave us (a flag, a file, a config), not by a bug.
 * The message is one line that says what was expected and what was found; the CLI prints it
 * without a stack trace and exits non-zero.
 */
export class UserError extends Error {
  override name = 'UserError';

  // instanceof holds across the ESM and CommonJS builds of core (two classes in one process): the brand
  // is a global symbol, the same in both.
  readonly [USER_ERROR] = true;
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [USER_ERROR]?: unknown })[USER_ERROR] === true;
  }
}

/** Builds the project's standard one-line message: `<what>: expected <expected>, found <found>`. */
export function mismatch(what: string, expected: string, found: string): UserError {
  return new UserError(`${what}: expected ${expected}, found ${found}`);
}
