import type { Command } from 'commander';

/**
 * Output files: every command that writes a file named on its command line checks it here before doing
 * the work (core's assertOutputFile: no replacing an existing file without --force, nothing inside a
 * checkpoint directory, nothing under /proc or /sys). Core loads only when there is a file to check, so
 * the scaling-law commands still start without tfjs.
 */

export interface ForceFlag {
  force?: boolean;
}

/** `--force`: the one flag that lets a command replace an existing output file. */
export function addForceOption<C extends Command>(cmd: C): C {
  cmd.option('--force', "replace existing output files (a checkpoint's own files are never replaced)");
  return cmd;
}

/** Checks each `[flag, file]` whose file is set (e.g. `['--out', flags.out]`). */
export async function checkOutputFiles(files: ReadonlyArray<readonly [flag: string, file: string | undefined]>, force?: boolean): Promise<void> {
  const named = files.filter((f): f is readonly [string, string] => f[1] !== undefined);
  if (named.length === 0) return;
  // A plot the user asked for needs the optional vega packages: refuse before any work, not after it.
  if (named.some(([flag]) => flag === '--plot')) await (await import('../plot/chart.js')).assertPlotting('--plot');
  const { assertOutputFile } = await import('@efficientscale/core/node');
  for (const [what, file] of named) assertOutputFile(file, { force, what });
}

/** Checks a directory the command writes the named files into (a plot folder), then creates it. */
export async function prepareOutputDir(dir: string, names: readonly string[], force?: boolean, what = '--out'): Promise<void> {
  const { assertOutputFilesIn, makeDirs } = await import('@efficientscale/core/node');
  assertOutputFilesIn(dir, names, { force, what });
  makeDirs(dir, `${what} ${dir}`);
}
