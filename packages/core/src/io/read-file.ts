/** Reading user-supplied files with one-line UserErrors instead of raw ENOENT stack traces (Node only). */
import * as fs from 'node:fs';
import { UserError, mismatch } from '../errors.js';
import { decodeUtf8, oneLine, parseJsonObject } from './read.js';

/** What is at `file` when it is not a regular file (reading a FIFO would block forever, a device never end). */
function notARegularFile(stat: fs.Stats): string | undefined {
  if (stat.isFile()) return undefined;
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe (FIFO), which could block forever';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device file';
  return 'not a regular file';
}

function unreadable(file: string, what: string, err: unknown): UserError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return mismatch(file, what, 'no such file');
  if (code === 'EISDIR') return mismatch(file, what, 'a directory');
  if (code === 'ELOOP') return mismatch(file, what, 'a symbolic link loop');
  if (code === 'EACCES' || code === 'EPERM') return mismatch(file, what, `a file this user may not read (${code})`);
  return new UserError(`${file}: expected ${what}, found an unreadable file (${code ?? oneLine(String(err))})`);
}

/**
 * Stats `file` and refuses anything but a regular file, with one line saying what is there; call it
 * before opening: open() itself blocks on a FIFO with no writer.
 */
export function statRegularFile(file: string, what: string): fs.Stats {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    throw unreadable(file, what, err);
  }
  const kind = notARegularFile(stat);
  if (kind) throw mismatch(file, what, kind);
  return stat;
}

/** Reads `file` as bytes; `what` describes the expected file in the error ("a safetensors file"). */
export function readBytes(file: string, what: string): Uint8Array {
  try {
    const stat = statRegularFile(file, what);
    if (stat.size > MAX_WHOLE_FILE_BYTES) {
      throw mismatch(file, `${what} of at most ${MAX_WHOLE_FILE_BYTES.toLocaleString('en')} bytes (read whole)`, `${stat.size.toLocaleString('en')} bytes`);
    }
    return fs.readFileSync(file);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw unreadable(file, what, err);
  }
}

/** Largest file read in one piece (Node's readFileSync limit, 2 GiB - 1). */
export const MAX_WHOLE_FILE_BYTES = 2 ** 31 - 1;

export function readText(file: string, what: string): string {
  return decodeUtf8(readBytes(file, what), file, what);
}

export function readJsonObject(file: string): Record<string, unknown> {
  return parseJsonObject(readText(file, 'a JSON file'), file);
}
