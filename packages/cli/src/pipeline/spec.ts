/**
 * The training settings of one stage as core's RunSpec. The step, token and FLOP counters carry on
 * across stages (trainer_state.json requires tokens = step × batch × seq and optimizerStep = step), so
 * a stage's schedule is written in global steps: a continuing stage's cosine or WSD runs from its first
 * step (warmup = that step, so it starts at its peak) to its last.
 */
import { defaultAdamW, type RunSpec, type ScheduleSpec } from '@efficientscale/core';
import type { PlannedStage } from './layout.js';
import type { Plan } from './plan.js';

export function stageSchedule(plan: Plan, p: PlannedStage): ScheduleSpec {
  const s = p.stage as { lr?: number; schedule?: 'cosine' | 'wsd' | 'constant'; warmup?: number; minRatio?: number };
  const lr = s.lr ?? plan.lr;
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
