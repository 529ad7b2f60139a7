import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';

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

/** Sub-commands that need no tensors: they run without loading core or tfjs (see scaling-law-commands.ts). */
export const SCALING_LAW_COMMANDS: readonly string[] = ['fit', 'predict', 'plan', 'evaluate'];

/** The sub-command a command line names: its first word that is not a flag. */
export function subcommandOf(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/**
 * The commands to register for a command line: the scaling-law ones alone when one of them runs (start-up
 * without tfjs), else all. Loaded on demand, so that importing this module loads neither.
 */
async function commandsFor(args: readonly string[]): Promise<(program: Command) => void> {
  const sub = subcommandOf(args);
  if (sub !== undefined && SCALING_LAW_COMMANDS.includes(sub)) {
    return (await import('./commands/scaling-law-commands.js')).registerScalingLawCommands;
  }
  return (await import('./commands/index.js')).registerCommands;
}

/** Errors in what the user gave (core's UserError, scaling-laws' ScalingLawError), told apart by name so
 * that this module need not load core. */
function isUserError(err: unknown): err is Error {
  return err instanceof Error && (err.name === 'UserError' || err.name === 'ScalingLawError');
}

/** What a file-system error code means for a path the user gave. */
const FILE_SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a file where a directory should be',
  EISDIR: 'a directory',
  EEXIST: 'something already there',
  EACCES: 'permission denied',
  EPERM: 'an operation not permitted',
  EROFS: 'a read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota used up',
  ENAMETOOLONG: 'a name too long',
  ELOOP: 'a loop of symbolic links',
  EBUSY: 'a busy file or device',
  ETXTBSY: 'a busy file',
  EMFILE: 'too many open files',
};

/**
 * A file-system error about a path (a run directory on a full disk, a parent that is a file): one line
 * naming the path, what was tried and what was found, instead of a stack trace.
 */
export function fileSystemErrorMessage(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException & { dest?: string };
  const found = typeof e.code === 'string' ? FILE_SYSTEM_ERRORS[e.code] : undefined;
  if (!found || typeof e.path !== 'string') return undefined;
  const to = e.dest ? ` to ${e.dest}` : '';
  return `${e.path}: expected a path that ${e.syscall ?? 'the command'}${to} can use, found ${found} (${e.code})`;
}

/**
 * The `efficientscale` command tree for a command line (`args`, without node and the script; all
 * commands when omitted). Each file in commands/ adds one sub-command.
 */
export async function buildProgram(options: { json?: boolean; args?: readonly string[] } = {}): Promise<Command> {
  const json = options.json ?? false;
  const registerCommands = await commandsFor(options.args ?? []);
  // Settings made before registerCommands are copied into every sub-command commander creates.
  const program = new Command('efficientscale')
    .description('Train language models with less compute: grow trained models (Scale-Up), upcycle them to mixtures of experts (Scale-Out), low-rank FFNs, and scaling laws that predict bigger runs before paying for them')
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
 * data or files and for file-system errors on a path (one line, or {"error": ...} under --json); bugs
 * print a stack (under --json, the stack goes into the JSON object).
 */
export async function runCli(argv: string[]): Promise<number> {
  const json = wantsJson(argv.slice(2));
  try {
    await (await buildProgram({ json, args: argv.slice(2) })).parseAsync(argv);
    return EXIT_OK;
  } catch (err) {
    // Commander already printed its message; --help and --version end here too, with exit code 0.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE_ERROR;
    const message = isUserError(err) ? err.message : fileSystemErrorMessage(err);
    if (message !== undefined) {
      if (json) writeJsonError(message);
      else process.stderr.write(`error: ${message}\n`);
      return EXIT_RUNTIME_ERROR;
    }
    if (!json) throw err;
    const bug = err instanceof Error ? err : new Error(String(err));
    writeJsonError(bug.message, { stack: bug.stack });
    return EXIT_RUNTIME_ERROR;
  }
}
