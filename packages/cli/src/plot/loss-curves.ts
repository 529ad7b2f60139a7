/**
 * Loss curves of training runs on shared axes: eval (and optionally train) loss against tokens and
 * against training FLOPs, read from metrics.jsonl. One drawing code for `pipeline` and `report`.
 */
import * as path from 'node:path';
import type { MetricsRecord } from '@efficientscale/core/node';
import { writeLineChartSvgIfPlotting, type ChartSeries } from './chart.js';

export interface LossCurve {
  name: string;
  records: readonly MetricsRecord[];
  /** Draw the training loss too (faint and dashed), not only the eval loss. */
  train?: boolean;
  /** Draw the eval curve dashed (e.g. the baselines beside the runs they are measured against). */
  dashed?: boolean;
}

export const evalPoints = (records: readonly MetricsRecord[], x: 'tokens' | 'flops') =>
  records.filter((r) => typeof r.eval_loss === 'number' && Number.isFinite(r.eval_loss)).map((r) => ({ x: r[x], y: r.eval_loss as number }));

/** Log scale once the positive data span more than a decade and a half. */
function spansDecades(values: number[]): boolean {
  const pos = values.filter((v) => v > 0);
  return pos.length > 1 && Math.max(...pos) / Math.min(...pos) > 30;
}

/** A horizontal dashed line across the data, e.g. the baseline's final loss the pipeline has to reach. */
export interface ReferenceLine {
  name: string;
  y: number;
}

/** The files writeLossCurvePlots writes into its directory. */
export const LOSS_CURVE_FILES = ['loss-vs-tokens.svg', 'loss-vs-flops.svg'] as const;

/** Writes loss-vs-tokens.svg and loss-vs-flops.svg into `outDir`; returns the paths drawn (none without vega). */
export async function writeLossCurvePlots(outDir: string, curves: readonly LossCurve[], title: string, subtitle?: string, references: readonly ReferenceLine[] = []): Promise<string[]> {
  const written: string[] = [];
  const withTrain = curves.some((c) => c.train);
  for (const axis of ['tokens', 'flops'] as const) {
    const series: ChartSeries[] = [];
    for (const c of curves) {
      const evals = evalPoints(c.records, axis);
      if (c.train) series.push({ name: `${c.name} train`, points: c.records.map((r) => ({ x: r[axis], y: r.loss })), mark: 'line', dashed: true });
      series.push({ name: c.name, points: evals, mark: 'line', dashed: c.dashed });
      series.push({ name: c.name, points: evals, mark: 'point' });
    }
    const xs = curves.flatMap((c) => c.records.map((r) => r[axis]));
    // Across the evaluations drawn, so the line does not stretch the axis.
    const evalXs = curves.flatMap((c) => evalPoints(c.records, axis).map((p) => p.x)).filter((x) => x > 0);
    const span = evalXs.length ? [Math.min(...evalXs), Math.max(...evalXs)] : [];
    for (const ref of references) series.push({ name: ref.name, points: span.map((x) => ({ x, y: ref.y })), mark: 'line', dashed: true });
    const file = path.join(outDir, `loss-vs-${axis}.svg`);
    const drawn = await writeLineChartSvgIfPlotting(file, {
      title: `${title}: ${withTrain ? 'loss' : 'eval loss'} against ${axis === 'tokens' ? 'training tokens' : 'training compute'}`,
      subtitle: subtitle ?? (withTrain ? 'solid with dots: held-out loss at each evaluation; dashed: training loss' : 'lines and dots: held-out loss at each evaluation'),
      xLabel: axis === 'tokens' ? 'training tokens (cumulative)' : 'training FLOPs (cumulative)',
      yLabel: withTrain ? 'loss (nats/token)' : 'eval loss (nats/token)',
      logX: spansDecades(xs),
      countAxes: axis === 'tokens' ? { x: true } : undefined,
      series,
    });
    if (drawn) written.push(file);
  }
  return written;
}
