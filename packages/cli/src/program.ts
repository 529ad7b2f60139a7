import { Command, CommanderError } from 'commander';
import { UserError } from '@efficientscale/core';
import { registerCommands } from './commands/index.js';

/** The `efficientscale` command tree. Each file in commands/ adds one sub-command. */
export function buildProgram(): Command {
  const program = new Command('efficientscale')
    .description('Train language models on the CPU, and fit scaling laws to predict bigger runs before paying for them')
    .showHelpAfterError('(run with --help for usage)')
    .showSuggestionAfterError(true)
    .exitOverride();
  registerCommands(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI and returns the exit code; user errors print one line, bugs print a stack. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander already printed the message
    if (err instanceof UserError || (err instanceof Error && err.name === 'ScalingLawError')) {
      process.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
