import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mismatch, parseRunCurve, type CurveParseOptions, type CurveRun } from '@efficientscale/scaling-laws';
import { unreadableFile } from './read.js';

/** Reads a run's curve from its directory (its metrics.jsonl; the directory's name is the run's) or a metrics.jsonl file. */
export function readRunCurve(path: string, options: CurveParseOptions = {}): CurveRun {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const metrics = isDir ? join(path, 'metrics.jsonl') : path;
  if (!existsSync(metrics)) throw mismatch(path, isDir ? 'a run directory with a metrics.jsonl' : 'a run directory or its metrics.jsonl', isDir ? 'no metrics.jsonl' : 'nothing there');
  let text: string;
  try {
    text = readFileSync(metrics, 'utf8');
  } catch (err) {
    throw mismatch(metrics, 'a readable file', unreadableFile(err));
  }
  const name = options.name ?? (isDir ? basename(path.replace(/\/+$/, '')) || path : basename(join(metrics, '..')));
  return parseRunCurve(text, metrics, { ...options, name });
}
