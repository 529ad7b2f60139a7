import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
// From the package's main entry (a self-reference, external in the build), not './data.js': the /node
// build then shares the main entry's code, and its errors are instances of the one ScalingLawError.
import { mismatch, parseDataset, type ParseOptions, type Point } from '@efficientscale/scaling-laws';

/**
 * Reads observations from a .csv or .jsonl (.ndjson) file, or from a run directory written by
 * `efficientscale train` (its metrics.jsonl, the directory's name as the model name); see
 * parseDataset for the accepted columns.
 */
export function readDataset(path: string, options: ParseOptions = {}): Point[] {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const metrics = join(path, 'metrics.jsonl');
    if (!existsSync(metrics)) throw mismatch(path, 'a run directory with a metrics.jsonl', 'no metrics.jsonl');
    const model = basename(path) || path;
    return parseDataset(readFileSync(metrics, 'utf8'), metrics, 'jsonl', { ...options, model: options.model ?? model });
  }
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
