/**
 * The report's "predicted beside measured" part: each train stage's and the baseline's final eval loss
 * as the law predicted it before anything trained (chained through the stages), as measured, the error,
 * and for a stage after a transform also the prediction from the loss the stage really started at (which
 * isolates the effective-LR-area model of the transform from the errors of the stages before it).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { readMetrics } from '@efficientscale/core/node';
import { writeLineChartSvgIfPlotting, type ChartSeries } from '../plot/chart.js';
import { evalPoints } from '../plot/loss-curves.js';
import type { PlannedStage } from './layout.js';
import type { StagePrediction } from './predict.js';
import type { StageRecord } from './stage-dir.js';

export interface PredictionRow {
  label: string;
  kind: 'train' | 'baseline';
  predicted: number;
  interval: [number, number] | null;
  measured: number | null;
  error: number | null;
  /** Continuing stages: the prediction from the measured start, and its error. */
  fromMeasuredStart: number | null;
  fromMeasuredStartError: number | null;
  effectiveTokens: number | null;
}

export interface PredictionResult {
  law: string;
  rows: PredictionRow[];
  /** The two figures a plan is judged by: the baseline's final loss and the pipeline's (its last train stage). */
  baseline?: PredictionRow;
  pipeline?: PredictionRow;
  plot?: string;
}

const pct = (e: number) => `${e >= 0 ? '+' : ''}${(100 * e).toFixed(2)}%`;

/** Rows for every predicted stage, with the measured final eval loss from the stage records. */
export function predictionRows(predicted: readonly StagePrediction[], conditional: readonly StagePrediction[], records: readonly StageRecord[]): PredictionRow[] {
  return predicted.map((p) => {
    const measured = records.find((r) => r.label === p.label)?.eval_loss ?? null;
    const c = conditional.find((q) => q.index === p.index && q.startStep > 0);
    return {
      label: p.label,
      kind: p.kind,
      predicted: p.loss,
      interval: p.interval ?? null,
      measured,
      error: measured === null ? null : p.loss / measured - 1,
      fromMeasuredStart: c ? c.loss : null,
      fromMeasuredStartError: c && measured !== null ? c.loss / measured - 1 : null,
      effectiveTokens: c?.effectiveTokens ?? p.effectiveTokens ?? null,
    };
  });
}

export function predictionResult(law: string, rows: PredictionRow[], plot?: string): PredictionResult {
  const train = rows.filter((r) => r.kind === 'train');
  return { law, rows, baseline: rows.find((r) => r.kind === 'baseline'), pipeline: train[train.length - 1], ...(plot ? { plot } : {}) };
}

/** The Markdown section. */
export function predictionMarkdown(result: PredictionResult): string {
  const table = result.rows.map((r) => {
    const interval = r.interval ? ` (${r.interval[0].toFixed(3)}–${r.interval[1].toFixed(3)})` : '';
    const cond = r.fromMeasuredStart === null ? '' : `${r.fromMeasuredStart.toFixed(3)} (${pct(r.fromMeasuredStartError ?? 0)})`;
    const eff = r.effectiveTokens === null ? '' : r.effectiveTokens === Infinity ? 'at the floor' : Math.round(r.effectiveTokens).toLocaleString('en');
    return `| ${r.label} | ${r.predicted.toFixed(3)}${interval} | ${r.measured?.toFixed(3) ?? '-'} | ${r.error === null ? '-' : pct(r.error)} | ${cond} | ${eff} |`;
  });
  const b = result.baseline;
  const p = result.pipeline;
  const headline = [
    b && b.error !== null ? `baseline final eval loss predicted ${b.predicted.toFixed(3)}, measured ${b.measured!.toFixed(3)} (${pct(b.error)})` : '',
    p && p.error !== null ? `pipeline final eval loss predicted ${p.predicted.toFixed(3)}, measured ${p.measured!.toFixed(3)} (${pct(p.error)})` : '',
  ].filter(Boolean);
  return [
    '## Predicted beside measured',
    '',
    `Predicted before training by the law in ${result.law}: ${headline.join('; ')}.`,
    '',
    'A stage after a transform is predicted as the law\'s curve for its own size started at the LR area where that curve has the loss the stage starts from ("effective tokens": that area as tokens at the peak LR), assuming the transform keeps the loss; the column "from the measured start" starts it from the loss the stage before it really ended at, which measures this model of the transform alone.',
    '',
    '| stage | predicted (interval) | measured | error | from the measured start (error) | effective tokens |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...table,
    '',
    ...(result.plot ? [`![predicted beside measured](${path.basename(result.plot)})`, ''] : []),
  ].join('\n');
}

/** Measured eval losses (dots) and the predicted curves (lines) of every predicted stage, against tokens. */
export async function writePredictionPlot(file: string, layout: readonly PlannedStage[], predicted: readonly StagePrediction[], tokensPerStep: number, title: string): Promise<string | undefined> {
  const series: ChartSeries[] = predicted.flatMap((p) => {
    const stage = layout.find((l) => l.index === p.index)!;
    const name = p.label;
    const metrics = path.join(stage.dir, 'metrics.jsonl');
    // A stage not run yet (dry run) shows the prediction alone.
    const measured: ChartSeries[] = existsSync(metrics) ? [{ name, mark: 'point', points: evalPoints(readMetrics(metrics), 'tokens') }] : [];
    // A run from scratch starts far above where anything is compared: its first 10% would flatten the rest.
    const from = p.startStep === 0 ? 0.1 * p.endStep : 0;
    const line = p.curve.filter((c) => c.step >= from).map((c) => ({ x: c.step * tokensPerStep, y: c.loss }));
    return [...measured, { name, mark: 'line' as const, points: line }];
  });
  const drawn = await writeLineChartSvgIfPlotting(file, {
    title,
    subtitle: 'lines: predicted before training (law fitted on the pilots; a run from scratch past its first 10%); dots: measured eval loss',
    width: 640,
    xLabel: 'tokens (cumulative across stages; the baseline its own)',
    yLabel: 'eval loss (nats/token)',
    series,
  });
  return drawn ? file : undefined;
}
