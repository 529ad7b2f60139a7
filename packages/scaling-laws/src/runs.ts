import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { mismatch } from '@efficientscale/scaling-laws';

const METRICS = 'metrics.jsonl';
const hasMetrics = (dir: string) => existsSync(join(dir, METRICS));
const subdirs = (dir: string) => readdirSync(dir).sort().filter((d) => statSync(join(dir, d)).isDirectory());

export interface RunMetricsFile {
  /** The run's name: its directory's, or `pipeline/stage` (`pipeline/seed-0/stage` for a --seeds output). */
  name: string;
  file: string;
}

/**
 * The metrics.jsonl files a directory stands for: a run directory's own; a pipeline output's stage
 * directories' (in name order); a `pipeline --seeds` output's, seed by seed. `prefix` false names a
 * pipeline's stages without the pipeline's own directory name.
 */
export function metricsFilesOf(dir: string, options: { prefix?: boolean } = {}): RunMetricsFile[] {
  if (hasMetrics(dir)) return [{ name: basename(resolve(dir)), file: join(dir, METRICS) }];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw mismatch(dir, 'a run directory (with metrics.jsonl) or a pipeline output', 'no such directory');
  const head = options.prefix === false ? '' : `${basename(resolve(dir))}/`;
  const runs: RunMetricsFile[] = [];
  for (const sub of subdirs(dir)) {
    const inner = join(dir, sub);
    if (hasMetrics(inner)) runs.push({ name: `${head}${sub}`, file: join(inner, METRICS) });
    else for (const stage of subdirs(inner).filter((d) => hasMetrics(join(inner, d)))) runs.push({ name: `${head}${sub}/${stage}`, file: join(inner, stage, METRICS) });
  }
  if (runs.length === 0) throw mismatch(dir, 'a run directory with metrics.jsonl, or a pipeline output whose stage directories have one', 'neither');
  return runs;
}
