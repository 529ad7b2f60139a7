/**
 * An error caused by what the user gave us (a flag, a file, a config), not by a bug.
 * The message is one line that says what was expected and what was found; the CLI prints it
 * without a stack trace and exits non-zero.
 */
export class UserError extends Error {
  override name = 'UserError';
}

/** Builds the project's standard one-line message: `<what>: expected <expected>, found <found>`. */
export function mismatch(what: string, expected: string, found: string): UserError {
  return new UserError(`${what}: expected ${expected}, found ${found}`);
}
