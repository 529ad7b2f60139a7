import type { Command } from 'commander';

/** Every sub-command registers itself here; one line per command file. */
export function registerCommands(program: Command): void {
}
