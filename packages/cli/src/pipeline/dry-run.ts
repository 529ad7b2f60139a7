/**
 * `pipeline --dry-run`: each stage's parameters, tokens, FLOPs and estimated time, before anything
 * trains. Time = steps × measured step time + evaluations (a forward pass costs about a third of a
 * training step).
 */
import { countLabel } from '../plot/index.js';
import { ESTIMATE_STEPS, ESTIMATE_WARMUP, measureStepSeconds } from './estimate.js';
import { layoutStages, trains } from './layout.js';
import type { Plan, TrainStage } from './plan.js';
import { scheduleSummary } from './spec.js';

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
}

export interface DryRun {
  stages: DryRunStage[];
  pipeline: { tokens: number; flops: number; est_seconds: number };
  baseline?: { tokens: number; flops: number; est_seconds: number };
  est_seconds: number;
  how: string;
  /** The LR curve in one line. */
  schedule: string;
}

export function dryRun(plan: Plan, backend: string): DryRun {
  const layout = layoutStages(plan);
  const stepSeconds = new Map<string, number>();
  const stages = layout.map((p): DryRunStage => {
    let est = 0;
    let tps: number | undefined;
    // An external trainer's speed is its own: no estimate.
    if (trains(p.stage) && (p.stage as TrainStage).trainer === undefined) {
      const key = JSON.stringify(p.config);
      if (!stepSeconds.has(key)) stepSeconds.set(key, measureStepSeconds(plan, p.config));
      const step = stepSeconds.get(key)!;
      const evals = plan.evalsPerStage + 1;
      est = p.steps * step + (evals * plan.evalBatches * step) / (3 * plan.accumulation);
      tps = (plan.batch * plan.seq * plan.accumulation) / step;
    }
    return { stage: p.label, kind: p.stage.type, params: p.params, active_params: p.activeParams, steps: p.steps, tokens: p.tokens, flops: p.flops, tokens_per_s: tps, est_seconds: est, dir: p.dir };
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
    how: `times from tokens/s measured over ${ESTIMATE_STEPS} training steps after ${ESTIMATE_WARMUP} warm-up per architecture on ${backend} (synthetic tokens, the plan's batch shape), plus evaluations at a third of a step per batch; a busy shared machine runs slower`,
  };
}

export const formatSeconds = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

export function formatDryRun(d: DryRun): string {
  const head = ['stage', 'kind', 'params', 'active/token', 'steps', 'tokens', 'FLOPs', 'tokens/s', 'est. time'];
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
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const totals = [
    `pipeline: ${countLabel(d.pipeline.tokens)} tokens, ${d.pipeline.flops.toExponential(2)} FLOPs, about ${formatSeconds(d.pipeline.est_seconds)}`,
    d.baseline ? `baseline: ${countLabel(d.baseline.tokens)} tokens, ${d.baseline.flops.toExponential(2)} FLOPs, about ${formatSeconds(d.baseline.est_seconds)}` : 'no baseline stage',
    `total: about ${formatSeconds(d.est_seconds)} (${d.how})`,
    d.schedule,
  ];
  return [line(head), ...rows.map(line), '', ...totals].join('\n') + '\n';
}
