/**
 * What a whole-curve law (fitted on the plan's pilots) predicts a plan's stages will end at, before they
 * train: the first train stage and the baseline start from scratch and follow their schedules; a train
 * stage after a transform starts from the loss the stage before it ended at, placed on its own size's
 * curve at the LR area where that curve has this loss (the "effective" training the transform carried
 * over; scaling-laws' predictContinuation), and follows the rest of the plan's one LR curve. A transform
 * is assumed to keep the loss (grow and upcycle do, within their tested tolerances).
 */
import { learningRate, mismatch } from '@efficientscale/core';
import { predictContinuation, predictCurve, type CurveLawEstimate } from '@efficientscale/scaling-laws';
import { trains, type PlannedStage } from './layout.js';
import type { Plan } from './plan.js';
import { stageSchedule } from './spec.js';

/** A whole-curve law and the file it came from. */
export interface PipelineLaw {
  estimate: CurveLawEstimate;
  source: string;
}

export interface StagePrediction {
  index: number;
  label: string;
  kind: 'train' | 'baseline';
  params: number;
  /** Global steps before the stage, and after it. */
  startStep: number;
  endStep: number;
  /** The loss the stage starts from (a continuing stage: the previous stage's final, predicted or measured). */
  startLoss?: number;
  /** The predicted final eval loss, with its bootstrap interval when the law has one. */
  loss: number;
  interval?: [number, number];
  /** Where a continuing stage's start lies on its size's curve: the tokens at the peak LR that reach that loss. */
  effectiveTokens?: number;
  /** The predicted curve at up to 60 steps (global step, loss), for plots. */
  curve: Array<{ step: number; loss: number }>;
}

/** The LR of every global step 1..end of the pipeline's train stages (or of the baseline, over its own steps). */
export function stageLearningRates(plan: Plan, layout: readonly PlannedStage[], baseline: boolean): Float64Array {
  const stages = layout.filter((p) => trains(p.stage) && (p.stage.type === 'baseline') === baseline);
  const end = Math.max(0, ...stages.map((p) => p.startStep + p.steps));
  const lr = new Float64Array(end);
  for (const p of stages) {
    const spec = stageSchedule(plan, p);
    for (let s = p.startStep; s < p.startStep + p.steps; s++) lr[s] = learningRate(spec, s); // step s + 1 runs at learningRate(spec, s)
  }
  return lr;
}

const steps = (from: number, to: number, count = 60) => [...new Set(Array.from({ length: count }, (_, i) => Math.round(from + ((to - from) * (i + 1)) / count)))];

/**
 * Each train stage's and the baseline's predicted final eval loss. `measuredStart` (a stage's index → the
 * loss it really started from) replaces the chained prediction where given: the prediction of a stage
 * given what the stage before it measured.
 */
export function predictStages(plan: Plan, layout: readonly PlannedStage[], est: CurveLawEstimate, measuredStart: ReadonlyMap<number, number> = new Map()): StagePrediction[] {
  const tokensPerStep = plan.batch * plan.seq * plan.accumulation;
  const out: StagePrediction[] = [];
  const pipelineLr = stageLearningRates(plan, layout, false);
  const baselineLr = stageLearningRates(plan, layout, true);
  let previous: number | undefined;
  for (const p of layout) {
    if (!trains(p.stage)) continue;
    const kind = p.stage.type === 'baseline' ? 'baseline' : 'train';
    const lr = kind === 'baseline' ? baselineLr.subarray(0, p.steps) : pipelineLr.subarray(0, p.startStep + p.steps);
    const end = p.startStep + p.steps;
    const base = { index: p.index, label: p.label, kind, params: p.params, startStep: p.startStep, endStep: end } as const;
    if (p.startStep === 0) {
      const curve = predictCurve(est, lr, { params: p.params, steps: steps(0, end) });
      const last = curve.steps.length - 1;
      out.push({ ...base, loss: curve.loss[last], ...(curve.lower ? { interval: [curve.lower[last], curve.upper![last]] } : {}), curve: curve.steps.map((s, i) => ({ step: s, loss: curve.loss[i] })) });
    } else {
      const startLoss = measuredStart.get(p.index) ?? previous!;
      const curve = predictContinuation(est, lr, { params: p.params, startStep: p.startStep, startLoss, steps: steps(p.startStep, end) });
      const last = curve.steps.length - 1;
      out.push({
        ...base,
        startLoss,
        loss: curve.loss[last],
        ...(curve.lower ? { interval: [curve.lower[last], curve.upper![last]] } : {}),
        effectiveTokens: curve.effectiveStepsAtPeak * tokensPerStep,
        curve: curve.steps.map((s, i) => ({ step: s, loss: curve.loss[i] })),
      });
    }
    if (kind === 'train') previous = out[out.length - 1].loss;
  }
  return out;
}

/** The loss each continuing train stage really started from: the final eval loss of the train stage before it. */
export function measuredStarts(layout: readonly PlannedStage[], finalLoss: (p: PlannedStage) => number | undefined): Map<number, number> {
  const out = new Map<number, number>();
  let previous: number | undefined;
  for (const p of layout) {
    if (p.stage.type !== 'train') continue;
    if (p.startStep > 0 && previous !== undefined) out.set(p.index, previous);
    previous = finalLoss(p);
  }
  return out;
}

/** Refuses, in one line, a plan the law cannot predict: a first stage that starts from an existing checkpoint. */
export function checkPredictable(plan: Plan): void {
  const first = plan.stages[0] as { from?: string };
  if (first.from !== undefined) throw mismatch('--law', 'a plan whose first stage trains from scratch (the law predicts runs from step 0)', `stages[0].from ${first.from}`);
}
