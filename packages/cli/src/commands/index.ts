import type { Command } from 'commander';
import { registerTrain } from './train.js';

/** Every sub-command registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
  registerTrain(program);
}
