/**
 * Crash-safe writes: everything is written to a temporary name beside its destination, flushed
 * to disk, then renamed into place, so a reader sees either the old content or the new, never a
 * half-written file or directory.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mismatch } from '../errors.js';
import { assertWritableLocation } from './output-path.js';

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}

/** What writeFileAtomic appends to a temporary file's name. */
const TEMP_SUFFIX = /\.tmp-[0-9a-f]{12}$/;

/** Writes and fsyncs a new file; fails if `file` already exists ('wx'), so temp names never clobber. */
function writeNewFileSynced(file: string, data: Uint8Array | string): void {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw mismatch(`${file}: file content`, 'a string or Uint8Array', typeof data);
  }
  const fd = fs.openSync(file, 'wx');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes a rename durable by flushing the directory entry; some platforms cannot fsync a directory. */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Windows and some filesystems refuse; the rename itself is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically (temp file in the same directory + fsync + rename). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  assertWritableLocation(file);
  const tmp = `${file}.tmp-${randomSuffix()}`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeNewFileSynced(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(path.dirname(file));
}

/** A name for a file directly inside a directory: no separators, not '.' or '..'. */
export function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[\\/]/.test(name);
}

function checkPlainName(dir: string, name: string): void {
  if (!isPlainFileName(name)) {
    throw mismatch(`${dir}: file name`, 'a plain name without path separators', JSON.stringify(name));
  }
}

/**
 * Previous contents of `dir` that an interrupted writeDirAtomic left renamed aside (a crash
 * between its two renames leaves `dir` absent and the old content in `dir.old-<random>`).
 */
export function findInterruptedDirSwap(dir: string): string[] {
  const target = path.resolve(dir);
  const prefix = `${path.basename(target)}.old-`;
  try {
    return fs.readdirSync(path.dirname(target)).filter((name) => name.startsWith(prefix)).map((name) => path.join(path.dirname(target), name));
  } catch {
    return [];
  }
}

/**
 * Repairs what a process killed inside writeDirAtomic left beside `dir`: when `dir` is absent and
 * exactly one `dir.old-<random>` holds its previous content (killed between the two renames), that
 * one is renamed back; when `dir` exists, its superseded `dir.old-<random>` copies (killed before the
 * clean-up) go; half-written `dir.tmp-<random>` directories go too. Returns the restored path, if any.
 * Only for a directory this process is about to own (a run being resumed).
 */
export function recoverInterruptedDirSwap(dir: string): string | undefined {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  if (!fs.existsSync(parent)) return undefined;
  const tmpPrefix = `${path.basename(target)}.tmp-`;
  for (const name of fs.readdirSync(parent)) {
    if (name.startsWith(tmpPrefix)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  const leftovers = findInterruptedDirSwap(dir);
  if (fs.existsSync(target)) {
    for (const old of leftovers) fs.rmSync(old, { recursive: true, force: true });
    return undefined;
  }
  if (leftovers.length !== 1) return undefined;
  fs.renameSync(leftovers[0], target);
  fsyncDir(parent);
  return leftovers[0];
}

/**
 * Removes the temporary files a killed writeFileAtomic left directly in `dir` (`<name>.tmp-<12 hex>`, e.g.
 * a plot interrupted mid-write). Only for a directory this process is about to own (a run being resumed).
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((name) => TEMP_SUFFIX.test(name) && fs.lstatSync(path.join(dir, name)).isFile());
  for (const name of stale) fs.rmSync(path.join(dir, name), { force: true });
  return stale;
}

/**
 * Replaces directory `dir` with exactly `files` (name → content). The new content is written to
 * `dir.tmp-<random>` first; only when all of it is on disk is the old directory renamed aside to
 * `dir.old-<random>`, the new one renamed into place and the old one removed. On any failure the
 * temp directory is removed and `dir` is left as it was.
 */
export function writeDirAtomic(dir: string, files: Record<string, Uint8Array | string>): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  const tmp = `${target}.tmp-${randomSuffix()}`;
  try {
    for (const name of Object.keys(files)) checkPlainName(dir, name);
    assertWritableLocation(dir);
    fs.mkdirSync(parent, { recursive: true });
    fs.mkdirSync(tmp);
    for (const [name, data] of Object.entries(files)) writeNewFileSynced(path.join(tmp, name), data);
    fsyncDir(tmp);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }

  const old = fs.existsSync(target) ? `${target}.old-${randomSuffix()}` : undefined;
  try {
    if (old) fs.renameSync(target, old);
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      if (old) fs.renameSync(old, target); // put the previous content back before reporting
      throw err;
    }
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  fsyncDir(parent);
  if (old) fs.rmSync(old, { recursive: true, force: true });
}
