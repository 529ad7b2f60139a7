import { InvalidArgumentError } from 'commander';

/**
 * A number written in decimal (`16`, `0.5`, `-3`, `1e-3`, `2e6`): nothing else reads as one. `Number()`
 * alone takes `0x10` as 16, `0b11`, `''` and `' '` as 0, and `Infinity`. NaN when `value` is not decimal.
 */
export function decimal(value: string): number {
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN;
}

/** Parsers for numeric flags: commander prints "error: option '--steps <n>' argument 'x' is invalid. <why>". */
export function positiveInt(value: string): number {
  const n = decimal(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`Expected a positive integer, found "${value}".`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = decimal(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`Expected a non-negative integer, found "${value}".`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = decimal(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`Expected a positive number, found "${value}".`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = decimal(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`Expected a non-negative number, found "${value}".`);
  return n;
}

/** A comma-separated list of numbers each of which passes `ok`; `each` says what each must be ("fractions in (0, 1)"). */
export const numberList = (flag: string, ok: (n: number) => boolean, each: string) => (value: string): number[] => {
  const parts = value.split(',').map((s) => s.trim());
  const bad = parts.find((s) => s === '' || !ok(decimal(s)));
  if (bad !== undefined) {
    const which = parts.length > 1 ? ` (${bad === '' ? 'an empty item' : `"${bad}"`} is not one)` : '';
    throw new InvalidArgumentError(`${flag}: expected a comma-separated list of ${each}, found "${value}"${which}`);
  }
  return parts.map(decimal);
};
