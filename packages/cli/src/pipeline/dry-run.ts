/**
 * `pipeline --dry-run`: each stage's parameters, tokens, FLOPs and estimated time, before anything
 * trains. Time = steps × measured step time + evaluations (a forward pass costs about a third of a
 * training step).
 */
import { countLabel } from '../plot/index.js';
import { ESTIMATE_STEPS, ESTIMATE_WARMUP, measureStepSeconds } from './estimate.js';
import { layoutStages, trains } from './layout.js';
import type { Plan, Stage, TrainStage } from './plan.js';
import { scheduleSummary } from './spec.js';
import { predictStages, type PipelineLaw, type StagePrediction } from './predict.js';

export interface DryRunStage {
  stage: string;
  kind: string;
  params: number;
  active_params: number;
  steps: number;
  tokens: number;
  flops: number;
  tokens_per_s?: number;
  est_seconds: number;
  dir: string;
  /** With a law: the stage's predicted final eval loss (and its interval). */
  predicted_loss?: number;
  predicted_interval?: [number, number];
}

export interface DryRun {
  stages: DryRunStage[];
  pipeline: { tokens: number; flops: number; est_seconds: number };
  baseline?: { tokens: number; flops: number; est_seconds: number };
  est_seconds: number;
  how: string;
  /** The LR curve in one line. */
  schedule: string;
  /** With a law: where the predictions come from and what they assume. */
  prediction?: string;
}

const measured = (stage: Stage) => trains(stage) && (stage as TrainStage).trainer === undefined;

export async function dryRun(plan: Plan, backend: string, law?: PipelineLaw): Promise<DryRun> {
  const layout = layoutStages(plan);
  const predicted = law ? predictStages(plan, layout, law.estimate) : [];
  const stepSeconds = new Map<string, number>();
  for (const p of layout) {
    const key = JSON.stringify(p.config);
    if (measured(p.stage) && !stepSeconds.has(key)) stepSeconds.set(key, await measureStepSeconds(plan, p.config));
  }
  const stages = layout.map((p): DryRunStage => {
    let est = 0;
    let tps: number | undefined;
    // An external trainer's speed is its own: no estimate.
    if (measured(p.stage)) {
      const step = stepSeconds.get(JSON.stringify(p.config))!;
      const evals = plan.evalsPerStage + 1;
      est = p.steps * step + (evals * plan.evalBatches * step) / (3 * plan.accumulation);
      tps = (plan.batch * plan.seq * plan.accumulation) / step;
    }
    const pred = predicted.find((q) => q.index === p.index);
    return {
      stage: p.label,
      kind: p.stage.type,
      params: p.params,
      active_params: p.activeParams,
      steps: p.steps,
      tokens: p.tokens,
      flops: p.flops,
      tokens_per_s: tps,
      est_seconds: est,
      dir: p.dir,
      ...(pred ? { predicted_loss: pred.loss, ...(pred.interval ? { predicted_interval: pred.interval } : {}) } : {}),
    };
  });
  const sum = (rows: DryRunStage[]) => ({ tokens: rows.reduce((n, r) => n + r.tokens, 0), flops: rows.reduce((n, r) => n + r.flops, 0), est_seconds: rows.reduce((n, r) => n + r.est_seconds, 0) });
  const base = stages.filter((s) => s.kind === 'baseline');
  const pipeline = sum(stages.filter((s) => s.kind !== 'baseline'));
  return {
    stages,
    pipeline,
    baseline: base.length ? sum(base) : undefined,
    est_seconds: pipeline.est_seconds + (base.length ? sum(base).est_seconds : 0),
    schedule: scheduleSummary(plan, layout),
    ...(law ? { prediction: predictionSummary(law, predicted) } : {}),
    how: `times from tokens/s measured over ${ESTIMATE_STEPS} training steps after ${ESTIMATE_WARMUP} warm-up per architecture on ${backend} (synthetic tokens, the plan's batch shape), plus evaluations at a third of a step per batch; a busy shared machine runs slower`,
  };
}

/** One line: the baseline's and the pipeline's predicted final eval loss, and the model behind them. */
function predictionSummary(law: PipelineLaw, predicted: readonly StagePrediction[]): string {
  const text = (p: StagePrediction | undefined) => (p ? `${p.loss.toFixed(3)}${p.interval ? ` (${p.interval[0].toFixed(3)}–${p.interval[1].toFixed(3)})` : ''}` : '-');
  const train = predicted.filter((p) => p.kind === 'train');
  return `predicted final eval loss (${law.estimate.law} law, ${law.source}): baseline ${text(predicted.find((p) => p.kind === 'baseline'))}, pipeline ${text(train[train.length - 1])}; a stage after a transform starts where its size's curve has the loss the stage before it ended at`;
}

export const formatSeconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

export function formatDryRun(d: DryRun): string {
  const predicts = d.stages.some((s) => s.predicted_loss !== undefined);
  const head = ['stage', 'kind', 'params', 'active/token', 'steps', 'tokens', 'FLOPs', 'tokens/s', 'est. time', ...(predicts ? ['predicted loss'] : [])];
  const rows = d.stages.map((s) => [
    s.stage,
    s.kind,
    s.params.toLocaleString('en'),
    s.active_params.toLocaleString('en'),
    String(s.steps),
    countLabel(s.tokens),
    s.flops ? s.flops.toExponential(2) : '0',
    s.tokens_per_s === undefined ? '-' : Math.round(s.tokens_per_s).toLocaleString('en'),
    s.tokens_per_s === undefined ? '-' : formatSeconds(s.est_seconds),
    ...(predicts ? [s.predicted_loss === undefined ? '-' : s.predicted_loss.toFixed(3)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const totals = [
    `pipeline: ${countLabel(d.pipeline.tokens)} tokens, ${d.pipeline.flops.toExponential(2)} FLOPs, about ${formatSeconds(d.pipeline.est_seconds)}`,
    d.baseline ? `baseline: ${countLabel(d.baseline.tokens)} tokens, ${d.baseline.flops.toExponential(2)} FLOPs, about ${formatSeconds(d.baseline.est_seconds)}` : 'no baseline stage',
    `total: about ${formatSeconds(d.est_seconds)} (${d.how})`,
    d.schedule,
    ...(d.prediction ? [d.prediction] : []),
  ];
  return [line(head), ...rows.map(line), '', ...totals].join('\n') + '\n';
}
