/**
 * The training settings of one stage as core's RunSpec. The step, token and FLOP counters carry on
 * across stages (trainer_state.json requires tokens = step × batch × seq and optimizerStep = step), so
 * a stage's schedule is written in global steps. Under a plan-wide schedule (the default) every stage
 * gets the same curve over the pipeline's steps, so the LR runs on through each transform; under
 * "per-stage" a continuing stage's cosine or WSD runs from its first step (warmup = that step, so it
 * starts at its peak) to its last.
 */
import { defaultAdamW, wsdSchedule, type RunSpec, type ScheduleSpec } from '@efficientscale/core/node';
import type { PlannedStage } from './layout.js';
import type { Plan, PlanSchedule } from './plan.js';

/** The plan-wide curve over `total` steps with peak `lr` (the baseline's: over its own steps). */
export function planCurve(schedule: PlanSchedule, lr: number, total: number): ScheduleSpec {
  if (schedule.kind === 'wsd') return wsdSchedule(lr, total, schedule.warmup, schedule.decay, schedule.minRatio);
  const warmup = Math.min(Math.round(schedule.warmup * total), Math.max(0, total - 1));
  return schedule.kind === 'constant' ? { kind: 'constant', lr, warmup } : { kind: 'cosine', lr, warmup, total, minRatio: schedule.minRatio };
}

/** One line for the dry run: the LR curve the pipeline's stages and its baseline follow. */
export function scheduleSummary(plan: Plan, layout: readonly PlannedStage[]): string {
  if (plan.schedule.kind === 'per-stage') return 'LR: each train stage its own schedule (per-stage)';
  const describe = (p: PlannedStage) => {
    const c = planCurve(plan.schedule, plan.lr, p.scheduleSteps);
    const head = `${c.kind} over ${p.scheduleSteps} steps, warmup ${c.warmup ?? 0}`;
    if (c.kind === 'constant') return head;
    const floor = `${c.minRatio ?? 0} × the peak`;
    if (c.kind === 'cosine') return `${head}, cosine down to ${floor}`;
    const decay = Math.max(1, Math.round(plan.schedule.decay * p.scheduleSteps));
    return `${head}, peak until step ${p.scheduleSteps - decay}, then linear down to ${floor} over ${decay}`;
  };
  const first = layout.find((p) => p.stage.type !== 'baseline');
  const baseline = layout.find((p) => p.stage.type === 'baseline');
  return `LR: ${first ? describe(first) : '-'} (one curve across every stage)${baseline ? `; baseline: ${describe(baseline)}` : ''}`;
}

export function stageSchedule(plan: Plan, p: PlannedStage): ScheduleSpec {
  const s = p.stage as { lr?: number; schedule?: 'cosine' | 'wsd' | 'constant'; warmup?: number; minRatio?: number };
  const lr = s.lr ?? plan.lr;
  if (plan.schedule.kind !== 'per-stage') return planCurve(plan.schedule, lr, p.scheduleSteps);
  const end = p.startStep + p.steps;
  // Only a stage from step 0 warms up; a continuing one starts at its peak (the carried moments are warm).
  const warmup = p.startStep === 0 ? Math.min(s.warmup ?? Math.round(p.steps / 10), Math.max(0, p.steps - 1)) : p.startStep;
  const minRatio = s.minRatio ?? 0.1;
  switch (s.schedule ?? 'cosine') {
    case 'constant':
      return { kind: 'constant', lr, warmup: p.startStep === 0 ? warmup : 0 };
    case 'wsd':
      return { kind: 'wsd', lr, warmup, total: end, decayFraction: 0.2, minRatio };
    default:
      return { kind: 'cosine', lr, warmup, total: end, minRatio };
  }
}

export function stageSpec(plan: Plan, p: PlannedStage, corpus: string): RunSpec {
  return {
    totalSteps: p.startStep + p.steps,
    valFraction: 0.02,
    evalEvery: Math.max(1, Math.floor(p.steps / plan.evalsPerStage)),
    checkpointEvery: Math.max(1, Math.floor(p.steps / plan.checkpointsPerStage)),
    corpus,
    trainer: {
      batchSize: plan.batch,
      seqLen: plan.seq,
      accumulation: plan.accumulation,
      schedule: stageSchedule(plan, p),
      adamw: { ...defaultAdamW, weightDecay: 0.01 },
      clipNorm: 1,
      seed: plan.seed,
      evalBatches: plan.evalBatches,
    },
  };
}
