/**
 * Checking JSON and text from users with one-line UserErrors instead of raw JSON stack traces; no file
 * access here (io/read-file.ts reads files), so the browser build can use it.
 */
import { mismatch } from '../errors.js';

/** Makes a message one line: JSON.parse's messages quote the offending text, newlines included. */
export function oneLine(message: string): string {
  return message.replace(/\r?\n/g, '\\n');
}

/** Decodes UTF-8 strictly, so binary files are reported instead of read as mojibake. */
export function decodeUtf8(bytes: Uint8Array, source: string, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw mismatch(source, `${what} in UTF-8`, 'bytes that are not valid UTF-8');
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names the JSON type of `value` for error messages. */
export function describeJson(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * A JSON value as a field's "found": numbers and strings as written, objects and arrays by kind. A number
 * past float64's range (1e400 in the file) parses as ±Infinity, which JSON.stringify would print as null.
 */
export function describeFound(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (value !== null && typeof value === 'object') return describeJson(value);
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (a number beyond float64's range, e.g. 1e400)`;
  return JSON.stringify(value);
}

/** Parses `text` as JSON that must be an object. */
export function parseJsonObject(text: string, source: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw mismatch(source, 'valid JSON', `a parse error (${oneLine((err as Error).message)})`);
  }
  if (!isPlainObject(value)) throw mismatch(source, 'a JSON object', describeJson(value));
  return value;
}
