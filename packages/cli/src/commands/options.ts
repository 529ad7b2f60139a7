import { InvalidArgumentError, Option } from 'commander';
import { backendNames, selectBackend, type BackendChoice, type BackendName } from '@efficientscale/core';

/** Parsers for numeric flags: commander prints "error: option '--steps <n>' argument 'x' is invalid. <why>". */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`Expected a positive integer, found "${value}".`);
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`Expected a non-negative integer, found "${value}".`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`Expected a positive number, found "${value}".`);
  return n;
}

export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`Expected a non-negative number, found "${value}".`);
  return n;
}

/** `--backend auto|cuda|native|tensorflow|wasm|cpu`, shared by every command that runs the model. */
export const backendOption = () =>
  new Option('--backend <name>', 'tensor backend').choices([...backendNames]).default('auto');

/** Selects the backend and tells people which one runs (stderr, so --json output stays clean). */
export async function useBackend(name: BackendName, quiet = false): Promise<BackendChoice> {
  const choice = await selectBackend(name);
  if (!quiet) process.stderr.write(`backend: ${choice.detail}\n`);
  return choice;
}
