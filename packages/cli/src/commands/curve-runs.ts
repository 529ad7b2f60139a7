import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readMetrics } from '@efficientscale/core/node';
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
    const first = readMetrics(r.file)[0];
    if (first?.step === 1) fresh.push({ name: r.name, path: r.file });
    else log(`${r.name}: left out (it continues a transformed model from step ${first?.step ?? '?'}; a curve law follows runs from step 1)`);
  }
  if (fresh.length === 0) throw mismatch(arg, 'a pipeline output with at least one stage trained from scratch (from step 1)', 'only stages that continue earlier ones');
  return fresh;
}
