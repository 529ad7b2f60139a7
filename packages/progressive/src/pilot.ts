/**
 * The pilot of Bu 2025's recipe: how long a grown model takes to catch up with the fixed-size one
 * (t_mix), measured on a short run, and the growth point it implies: grow at τ = decay start − t_mix, so
 * the catch-up is over before the final decay anneals the model.
 *
 * Two in-memory runs of `steps` steps on the same data order and constant peak LR after the same warmup:
 * the target from scratch, and the shallow start grown right after warmup. t_mix is the first step from
 * which the grown run's training loss (a trailing mean, both runs alike) stays at or below the fixed-size
 * run's for two smoothing windows: converged noisy curves touch and part by chance.
 */
import { learningRate, mismatch, type ModelConfig, type ScheduleSpec, type TrainerOptions } from '@efficientscale/core';
import { catchUp, trailingMean } from './catch-up.js';
import { planProgressive, type ProgressivePlanOptions } from './schedule.js';
import { trainProgressive } from './progressive.js';

export interface PilotOptions {
  target: ModelConfig;
  progressive: ProgressivePlanOptions;
  trainIds: Int32Array;
  valIds: Int32Array;
  /** The main run's trainer settings; the pilot keeps its peak LR and warmup and holds the LR constant after it. */
  trainer: TrainerOptions;
  /** The main run's length, to place the growth in. */
  totalSteps: number;
  /** The pilot's length (default: a quarter of the main run's steps). */
  steps?: number;
  onStep?: (run: 'fixed' | 'grown', step: number) => void;
}

export interface PilotResult {
  steps: number;
  /** The step the pilot grew at (right after warmup). */
  grewAt: number;
  /** Steps from the growth until the grown run met the fixed-size run; undefined: not within the pilot. */
  catchUpSteps?: number;
  /** Where the main run should grow (a step), and as a fraction of its steps; undefined when there is no room. */
  growStep?: number;
  growAt?: number;
  /** Why the growth point is what it is, in one sentence. */
  note: string;
  /** Training FLOPs the two pilot runs spent. */
  flops: number;
  /** The smoothed training losses of both runs, per step (for a plot or a report). */
  fixedLoss: number[];
  grownLoss: number[];
}

/** The last step at which a growth still sees the peak LR on both sides (the start of a wsd decay), and the first. */
function stablePhase(schedule: ScheduleSpec, totalSteps: number): { first: number; last: number } {
  const peak = schedule.lr;
  let last = totalSteps - 1;
  while (last > 1 && !(learningRate(schedule, last) === peak && learningRate(schedule, last - 1) === peak)) last--;
  const first = Math.max(1, schedule.warmup ?? 0);
  return { first, last };
}

export async function runPilot(o: PilotOptions): Promise<PilotResult> {
  const steps = o.steps ?? Math.max(20, Math.round(o.totalSteps / 4));
  const warmup = Math.min(o.trainer.schedule.warmup ?? 0, steps - 2);
  const grewAt = Math.max(1, warmup);
  const constant: ScheduleSpec = { kind: 'constant', lr: o.trainer.schedule.lr, warmup };
  const trainer = { ...o.trainer, schedule: constant };
  // The growth itself as planned for the main run (depths, method, seeds), moved to right after warmup.
  const plan = planProgressive(o.target, { ...o.progressive, growAt: [grewAt / steps] }, steps, constant);
  if (plan.schedule.length !== 1) throw mismatch('--pilot', 'a progressive run with one growth (the published recipe)', `${plan.schedule.length} growths`);
  const fixed = await trainProgressive({ config: o.target, trainIds: o.trainIds, valIds: o.valIds, trainer, totalSteps: steps, stages: [], onStep: (m) => o.onStep?.('fixed', m.step) });
  const grown = await trainProgressive({
    config: plan.config,
    trainIds: o.trainIds,
    valIds: o.valIds,
    trainer,
    totalSteps: steps,
    stages: [{ at: plan.schedule[0].step / steps, grow: plan.schedule[0].stage, depthLrScale: o.progressive.depthLrScale }],
    onStep: (m) => o.onStep?.('grown', m.step),
  });
  const window = Math.max(5, Math.round(steps / 20));
  const fixedLoss = trailingMean(fixed.history.map((m) => m.loss), window);
  const grownLoss = trailingMean(grown.history.map((m) => m.loss), window);
  // Compare from a full window after the growth, so no pre-growth loss is in the grown run's mean.
  const from = Math.min(steps, grewAt + window);
  // Met means at or below for two windows in a row: smoothed curves that have converged touch and part by chance.
  const met = catchUp(grownLoss.map((y, i) => ({ x: i + 1, y })), fixedLoss.map((y, i) => ({ x: i + 1, y })), from, 2 * window);
  const catchUpSteps = met.x === undefined ? undefined : Math.ceil(met.x - grewAt);
  const flops = fixed.flops + grown.flops;
  return { steps, grewAt, catchUpSteps, flops, fixedLoss, grownLoss, ...placeGrowth(catchUpSteps, o.trainer.schedule, o.totalSteps, steps, met.finalGap) };
}

/** τ = the decay's start − t_mix, if that is in the stable phase; else no growth point and why. */
export function placeGrowth(catchUpSteps: number | undefined, schedule: ScheduleSpec, totalSteps: number, pilotSteps: number, finalGap?: number): { growStep?: number; growAt?: number; note: string } {
  if (catchUpSteps === undefined) {
    return { note: `the grown pilot run did not catch up with the fixed-size one within ${pilotSteps} steps (${finalGap === undefined ? 'no comparison' : `still ${finalGap.toFixed(3)} nats above`}): run a longer pilot (--pilot-steps) or grow earlier` };
  }
  const { first, last } = stablePhase(schedule, totalSteps);
  const growStep = last - catchUpSteps;
  if (growStep < first) return { note: `catch-up takes ${catchUpSteps} steps, more than the ${last - first} steps of the stable phase: no growth point lets it finish before the decay` };
  return { growStep, growAt: growStep / totalSteps, note: `catch-up took ${catchUpSteps} steps in the pilot; growing at step ${growStep} of ${totalSteps} (${(growStep / totalSteps).toFixed(3)}) ends it at step ${last}, where the decay starts` };
}
