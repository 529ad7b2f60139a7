import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { UserError } from '@efficientscale/core';
import { registerCommands } from './commands/index.js';

/** Exit codes, as commander and POSIX tools use them. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME_ERROR = 1;
export const EXIT_USAGE_ERROR = 2;

const HELP_HINT = '(run with --help for usage)';

const CONVENTIONS = `
Exit codes: 0 success, 1 runtime error (bad data, missing file), 2 usage error (unknown flag, bad value).
With --json, a command prints one JSON object on stdout, and an error is one JSON object
{"error": "..."} on stderr (stdout then stays empty), with the same exit codes.`;

/** The cli package's version. src/ and dist/ both sit right below package.json, so one relative path serves both. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** True when the command line asks for JSON output (a `--json` before any `--`). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

function writeJsonError(message: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ error: message, ...extra })}\n`);
}

/** Commander's own messages start with "error: "; the JSON form carries the message alone. */
function commanderMessage(text: string): string {
  return text.trim().replace(/^error: /, '');
}

/** The `efficientscale` command tree. Each file in commands/ adds one sub-command. */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const json = options.json ?? false;
  // Settings made before registerCommands are copied into every sub-command commander creates.
  const program = new Command('efficientscale')
    .description('Train language models on the CPU, and fit scaling laws to predict bigger runs before paying for them')
    .version(cliVersion(), '-V, --version', 'print the version')
    .showHelpAfterError(json ? false : HELP_HINT)
    .showSuggestionAfterError(true)
    .addHelpText('after', CONVENTIONS)
    .exitOverride();
  // Under --json, stderr holds the JSON error alone: no help text, no hint.
  if (json) program.configureOutput({ writeErr: () => {}, outputError: (text) => writeJsonError(commanderMessage(text)) });
  registerCommands(program);
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError(json ? false : HELP_HINT);
  return program;
}

/**
 * Runs the CLI and returns the exit code: 2 for usage errors (commander's), 1 for user errors in the
 * data or files (one line, or {"error": ...} under --json); bugs print a stack (under --json, the stack
 * goes into the JSON object).
 */
export async function runCli(argv: string[]): Promise<number> {
  const json = wantsJson(argv.slice(2));
  try {
    await buildProgram({ json }).parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    // Commander already printed its message; --help and --version end here too, with exit code 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE_ERROR;
    if (err instanceof UserError || (err instanceof Error && err.name === 'ScalingLawError')) {
      if (json) writeJsonError(err.message);
      else process.stderr.write(`error: ${err.message}\n`);
      return EXIT_RUNTIME_ERROR;
    }
    if (!json) throw err;
    const bug = err instanceof Error ? err : new Error(String(err));
    writeJsonError(bug.message, { stack: bug.stack });
    return EXIT_RUNTIME_ERROR;
  }
}
