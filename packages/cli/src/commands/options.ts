import { Option } from 'commander';
import { backendNames, selectBackend, type BackendChoice, type BackendName } from '@efficientscale/core';

// The numeric parsers live in numbers.ts (no core import, so the scaling-law commands start without tfjs).
export { positiveInt, nonNegativeInt, positiveNumber, nonNegativeNumber, numberList } from './numbers.js';

/** `--backend auto|cuda|webgpu|native|tensorflow|wasm|cpu`, shared by every command that runs the model. */
export const backendOption = () =>
  new Option('--backend <name>', 'tensor backend').choices([...backendNames]).default('auto');

/** Selects the backend and tells people which one runs (stderr, so --json output stays clean). */
export async function useBackend(name: BackendName, quiet = false): Promise<BackendChoice> {
  const choice = await selectBackend(name);
  if (!quiet) process.stderr.write(`backend: ${choice.detail}\n`);
  return choice;
}
