/**
 * Where the project may write, checked before anything is created: one place for the rules every
 * command's output follows (atomic writers, run directories, --out files and directories).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch } from '../errors.js';

/** Kernel filesystems: nothing of ours belongs there (Node's recursive mkdir spins forever under /proc). */
const VIRTUAL_ROOTS = ['/proc', '/sys'];

const under = (p: string, root: string) => p === root || p.startsWith(`${root}/`);

/** The nearest path at or above `p` that exists (lstat: a dangling link counts), and what it is. */
function nearestExisting(p: string): { at: string; stat: fs.Stats } {
  let at = path.resolve(p);
  for (;;) {
    try {
      return { at, stat: fs.lstatSync(at) };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file sits above `at`; keep climbing to report it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw mismatch(at, 'a path this process can inspect', `${code ?? 'an error'} (${(err as Error).message})`);
    }
    const parent = path.dirname(at);
    if (parent === at) return { at, stat: fs.lstatSync(at) };
    at = parent;
  }
}

/**
 * Refuses a path that cannot hold output: under /proc or /sys (also through a link), or below something
 * that is not a directory (a file where a parent directory should be). `what` names the flag or file.
 */
export function assertWritableLocation(target: string, what = target): void {
  const resolved = path.resolve(target);
  for (const root of VIRTUAL_ROOTS) {
    if (under(resolved, root)) throw mismatch(what, 'a path outside /proc and /sys', `a path under ${root}`);
  }
  const { at, stat } = nearestExisting(resolved);
  let real = at;
  try {
    real = fs.realpathSync(at);
  } catch {
    // a dangling link: reported below, where the directory check fails
  }
  for (const root of VIRTUAL_ROOTS) {
    if (under(real, root)) throw mismatch(what, 'a path outside /proc and /sys', `a path through ${at}, which is ${real} under ${root}`);
  }
  if (at !== resolved && !(stat.isDirectory() || (stat.isSymbolicLink() && isDirectory(at)))) {
    throw mismatch(what, `a path below directories only`, `${at}, a ${kindOf(stat)}`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function kindOf(stat: fs.Stats): string {
  if (stat.isFile()) return 'file';
  if (stat.isSymbolicLink()) return 'link to nothing (or a loop)';
  if (stat.isFIFO()) return 'named pipe';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'device';
  return 'special file';
}

/** `mkdir -p`, after assertWritableLocation. */
export function makeDirs(dir: string, what = dir): void {
  assertWritableLocation(dir, what);
  fs.mkdirSync(dir, { recursive: true });
}

/** A checkpoint directory: holds config.json and weights (ours, or a Hugging Face one). */
export function isCheckpointDir(dir: string): boolean {
  const has = (name: string) => fs.existsSync(path.join(dir, name));
  return has('config.json') && (has('model.safetensors') || has('model.safetensors.index.json'));
}

export interface OutputFileOptions {
  /** Replace an existing file (--force). A checkpoint's files are never replaced. */
  force?: boolean;
  /** The flag that named the file, for the message (default: the path). */
  what?: string;
}

/**
 * Refuses an output file that would replace an existing file (unless `force`), a directory, anything
 * inside a checkpoint directory (its weights are not an output), or a path assertWritableLocation refuses.
 */
export function assertOutputFile(file: string, options: OutputFileOptions = {}): void {
  const what = options.what ? `${options.what} ${file}` : file;
  assertWritableLocation(file, what);
  const parent = path.dirname(path.resolve(file));
  if (isCheckpointDir(parent)) throw mismatch(what, 'a file outside any checkpoint directory', `a path inside the checkpoint ${parent}`);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return; // nothing there yet
  }
  if (stat.isDirectory()) throw mismatch(what, 'a file name', 'a directory');
  if (!stat.isFile()) throw mismatch(what, 'a regular file name', `a ${kindOf(stat)}`);
  if (!options.force) throw mismatch(what, 'a new file (pass --force to replace it)', 'an existing file');
}

/** Output files written into directory `dir` (a plot folder): the directory's location and each file, as assertOutputFile. */
export function assertOutputFilesIn(dir: string, names: readonly string[], options: OutputFileOptions = {}): void {
  const what = options.what ? `${options.what} ${dir}` : dir;
  assertWritableLocation(dir, what);
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw mismatch(what, 'a directory', 'a file');
  if (isCheckpointDir(dir)) throw mismatch(what, 'a directory that is not a checkpoint', `the checkpoint ${path.resolve(dir)}`);
  for (const name of names) assertOutputFile(path.join(dir, name), { force: options.force });
}

/**
 * A directory a command is about to fill (a new checkpoint, a run): absent or empty. `kind` names it in
 * the message ("directory", "run directory"); `hint` follows what is expected (how to continue instead).
 */
export function assertNewOutputDir(dir: string, options: { what?: string; kind?: string; hint?: string } = {}): void {
  const what = options.what ?? `--out ${dir}`;
  const expected = `a new or empty ${options.kind ?? 'directory'}${options.hint ?? ''}`;
  assertWritableLocation(dir, what);
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw mismatch(what, expected, 'a file');
  const entries = fs.readdirSync(dir);
  if (entries.length > 0) {
    const shown = entries.slice(0, 3).join(', ') + (entries.length > 3 ? ', ...' : '');
    throw mismatch(what, expected, `${entries.length} entries (${shown})`);
  }
}
