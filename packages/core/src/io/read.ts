/** Reading user-supplied files with one-line UserErrors instead of raw ENOENT/JSON stack traces. */
import * as fs from 'node:fs';
import { UserError, mismatch } from '../errors.js';

/** Reads `file` as bytes; `what` describes the expected file in the error ("a safetensors file"). */
export function readBytes(file: string, what: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw mismatch(file, what, 'no such file');
    if (code === 'EISDIR') throw mismatch(file, what, 'a directory');
    throw new UserError(`${file}: expected ${what}, found an unreadable file (${code ?? String(err)})`);
  }
}

/** Decodes UTF-8 strictly, so binary files are reported instead of read as mojibake. */
export function decodeUtf8(bytes: Uint8Array, source: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw mismatch(source, `${what} in UTF-8`, 'bytes that are not valid UTF-8');
  }
}

export function readText(file: string, what: string): string {
  return decodeUtf8(readBytes(file, what), file, what);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names the JSON type of `value` for error messages. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Parses `text` as JSON that must be an object. */
export function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw mismatch(source, 'valid JSON', `a parse error (${(err as Error).message})`);
  }
  if (!isPlainObject(value)) throw mismatch(source, 'a JSON object', describeJson(value));
  return value;
}

export function readJsonObject(file: string): Record<string, unknown> {
  return parseJsonObject(readText(file, 'a JSON file'), file);
}
