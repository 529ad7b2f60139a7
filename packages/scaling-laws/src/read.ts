import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDataset, type ParseOptions } from './data.js';
import { mismatch } from './errors.js';
import type { Point } from './points.js';

/** Reads observations from a .csv or .jsonl (.ndjson) file; see parseDataset for the accepted columns. */
export function readDataset(path: string, options: ParseOptions = {}): Point[] {
  const ext = extname(path).toLowerCase();
  const format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
  if (!format) throw mismatch(`${path}: file type`, '.csv, .jsonl or .ndjson', ext || 'no extension');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw mismatch(`${path}`, 'a readable file', (err as NodeJS.ErrnoException).code ?? String(err));
  }
  return parseDataset(text, path, format, options);
}
