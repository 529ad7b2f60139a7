import { z } from 'zod';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { countParams, type Params } from '../model/params.js';
import type { Trainer } from './trainer.js';

/**
 * One growth of a run's model (progressive training): when `step` steps are done, the model is replaced
 * by what `grow` makes of it. `stage` is plain JSON that only the caller understands (core does not know
 * how models grow); it is kept in trainer_state.json so that a resumed run grows the same way.
 */
export interface ScheduledGrowth {
  step: number;
  stage: Record<string, unknown>;
}

/** The schedule and the growths that happened, as stored in trainer_state.json. */
export interface GrowthRecord {
  schedule: ScheduledGrowth[];
  done: Array<{ step: number; paramsBefore: number; paramsAfter: number }>;
  /** The LR multipliers the last growth set (Trainer.lrScale), restored on resume. */
  lrScale?: Record<string, number>;
}

/**
 * Grows a model with its AdamW moments (`m.<weight>`, `v.<weight>`). Must be deterministic: a run resumed
 * from before a growth grows again. The caller disposes what it returns.
 */
export type GrowFn = (
  config: ModelConfig,
  params: Params,
  optimizerState: Record<string, tf.Tensor>,
  stage: Record<string, unknown>,
) => { config: ModelConfig; params: Params; optimizer?: Record<string, tf.Tensor>; lrScale?: Record<string, number> };

/** Checks a new run's schedule: growth steps strictly increasing, each within (0, totalSteps). */
export function startGrowth(schedule: ScheduledGrowth[], totalSteps: number): GrowthRecord {
  schedule.forEach((g, i) => {
    const after = i === 0 ? 0 : schedule[i - 1].step;
    if (!Number.isSafeInteger(g.step) || g.step <= after || g.step >= totalSteps) {
      throw mismatch(`growth ${i + 1} step`, `an integer in (${after}, ${totalSteps}) (after the previous growth, before the last step)`, String(g.step));
    }
  });
  return { schedule: schedule.map((g) => ({ step: g.step, stage: g.stage })), done: [] };
}

const count = z.number().int().min(0);
const recordSchema = z.object({
  schedule: z.array(z.object({ step: count, stage: z.record(z.string(), z.unknown()) })),
  done: z.array(z.object({ step: count, paramsBefore: count, paramsAfter: count })),
  lrScale: z.record(z.string(), z.number().positive().finite()).optional(),
});

/** The growth record of a stored trainer state (absent for a run without growth), checked against its step. */
export function checkGrowthRecord(json: unknown, step: number, source: string): GrowthRecord | undefined {
  if (json === undefined) return undefined;
  const parsed = recordSchema.safeParse(json);
  if (!parsed.success) throw mismatch(`${source}: "growth"`, 'a schedule of {step, stage} and a list of done growths', JSON.stringify(json).slice(0, 80));
  const record = parsed.data as GrowthRecord;
  // Growth at step s happens before step s + 1 runs, and a checkpoint is written after a step.
  const due = record.schedule.filter((g) => g.step < step).map((g) => g.step);
  const done = record.done.map((d) => d.step);
  if (due.join() !== done.join()) throw mismatch(`${source}: "growth.done"`, `the growths scheduled before step ${step} (at ${due.join(', ') || 'none'})`, done.join(', ') || 'none');
  return record;
}

/** Applies the growth scheduled at the trainer's current step, if any (Trainer.transformModel); returns whether the model grew. */
export async function growAt(trainer: Trainer, record: GrowthRecord, grow: GrowFn | undefined): Promise<boolean> {
  const due = record.schedule.find((g) => g.step === trainer.state.step);
  if (!due || record.done.some((d) => d.step === due.step)) return false;
  if (!grow) throw mismatch(`growth at step ${due.step}`, 'a grow function to apply it (efficientscale train passes one)', 'none');
  const paramsBefore = countParams(trainer.config);
  const grown = await trainer.transformModel((config, params, moments) => grow(config, params, moments, due.stage));
  trainer.lrScale = { ...grown.lrScale };
  record.lrScale = trainer.lrScale;
  record.done.push({ step: due.step, paramsBefore, paramsAfter: countParams(trainer.config) });
  return true;
}
