import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
// From the package's main entry (a self-reference, external in the build), not './data.js': the /node
// build then shares the main entry's code, and its errors are instances of the one ScalingLawError.
import { mismatch, parseDataset, type ParseOptions, type Point } from '@efficientscale/scaling-laws';
import { metricsFilesOf } from './runs.js';

/** What a failed read found, in words ("no such file"), for a one-line refusal. */
export function unreadableFile(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'a directory';
  if (code === 'EACCES' || code === 'EPERM') return `a file this user may not read (${code})`;
  return `an unreadable file (${code ?? String(err)})`;
}

/**
 * Reads observations from a .csv or .jsonl (.ndjson) file, or from a run directory written by
 * `efficientscale train` (its metrics.jsonl, the directory's name as the model name) or a pipeline's output
 * (each stage's metrics.jsonl, named pipeline/stage); see
 * parseDataset for the accepted columns.
 */
export function readDataset(path: string, options: ParseOptions = {}): Point[] {
  if (existsSync(path) && statSync(path).isDirectory()) {
    // A run directory, or a pipeline output: each stage is a model of its own size.
    return metricsFilesOf(path).flatMap((run) => parseDataset(readFileSync(run.file, 'utf8'), run.file, 'jsonl', { ...options, model: options.model ?? run.name }));
  }
  const ext = extname(path).toLowerCase();
  const format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.ndjson' ? 'jsonl' : undefined;
  if (!format) throw mismatch(`${path}: file type`, '.csv, .jsonl or .ndjson', ext || 'no extension');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw mismatch(path, `a readable ${format === 'csv' ? 'CSV' : 'JSONL'} file`, unreadableFile(err));
  }
  return parseDataset(text, path, format, options);
}
