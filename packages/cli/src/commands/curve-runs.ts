import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mismatch } from '@efficientscale/scaling-laws';
import { metricsFilesOf } from '@efficientscale/scaling-laws/node';

/**
 * The runs an argument stands for: a run directory or metrics.jsonl itself; a pipeline output (or a
 * `--seeds` output, pilots included) its runs from scratch, the stages that start at step 1. A stage that
 * continues a transformed model (its steps go on from the stage before) is not a curve of its own size
 * from step 0, so it is left out, each named in one line on stderr.
 */
export function curveRunsOf(arg: string, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Array<{ name: string; path: string }> {
  if (!existsSync(arg) || !statSync(arg).isDirectory() || existsSync(join(arg, 'metrics.jsonl'))) return [{ name: '', path: arg }];
  const fresh: Array<{ name: string; path: string }> = [];
  for (const r of metricsFilesOf(arg)) {
    const first = firstRecord(r.file);
    if (first?.step === 1) fresh.push({ name: r.name, path: r.file });
    else log(`${r.name}: left out (it continues a transformed model from step ${first?.step ?? '?'}; a curve law follows runs from step 1)`);
  }
  if (fresh.length === 0) throw mismatch(arg, 'a pipeline output with at least one stage trained from scratch (from step 1)', 'only stages that continue earlier ones');
  return fresh;
}

/** The first record of a metrics.jsonl, read without core (the scaling-law commands load no tfjs). */
function firstRecord(file: string): { step?: number } | undefined {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line) as { step?: number };
  } catch {
    throw mismatch(file, 'a metrics.jsonl whose first line is a JSON record', `${JSON.stringify(line.slice(0, 40))}`);
  }
}
