/**
 * `train --resume`: a resumed run keeps the settings it was started with. Flags that would change them
 * are refused (naming the stored value) instead of being silently ignored, and a `--steps` that moves the
 * end of the LR schedule says what that does to the learning rate.
 */
import type { Command } from 'commander';
import { learningRate, mismatch, type CheckedTrainerState, type ScheduleSpec } from '@efficientscale/core';

/** What a resumed run may be told: where it is, where to write, how far to go, what text, how to run. */
const RESUME_FLAGS = new Set(['resume', 'out', 'steps', 'corpus', 'backend', 'json']);

const flagName = (attribute: string) => `--${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The stored setting a flag would change, in words. */
function storedText(attribute: string, state: CheckedTrainerState): string {
  const t = state.spec.trainer;
  switch (attribute) {
    case 'lr':
      return `its stored peak learning rate ${t.schedule.lr}`;
    case 'batch':
      return `its stored batch of ${t.batchSize} sequences`;
    case 'seq':
      return `its stored sequence length ${t.seqLen}`;
    case 'accumulation':
      return `its stored ${t.accumulation} micro-batch${t.accumulation === 1 ? '' : 'es'} per step`;
    case 'seed':
      return `its stored seed ${t.seed}`;
    case 'schedule':
      return `its stored ${t.schedule.kind} schedule`;
    case 'tokenizer':
      return `its stored ${String(state.tokenizer.kind)} tokenizer`;
    case 'tokens':
      return `--steps, the total number of steps (it has done ${state.step} of ${state.spec.totalSteps})`;
    default:
      return 'the model and settings it was started with (start a new run to change them)';
  }
}

/** The stored value a flag would set, where the run stores one to compare with. */
function storedValue(attribute: string, state: CheckedTrainerState): unknown {
  const t = state.spec.trainer;
  const values: Record<string, unknown> = { lr: t.schedule.lr, batch: t.batchSize, seq: t.seqLen, accumulation: t.accumulation, seed: t.seed, schedule: t.schedule.kind };
  return values[attribute];
}

/** Refuses every flag given on the command line that would change what a resumed run keeps (one that repeats the stored value passes). */
export function refuseSettingFlags(command: Command, state: CheckedTrainerState): void {
  for (const option of command.options) {
    const attribute = option.attributeName();
    if (RESUME_FLAGS.has(attribute) || command.getOptionValueSource(attribute) !== 'cli') continue;
    const flag = option.long ?? flagName(attribute);
    const value = command.getOptionValue(attribute) as unknown;
    if (value === storedValue(attribute, state)) continue;
    const given = typeof value === 'boolean' ? flag : `${flag} ${String(value)}`;
    throw mismatch(`${given} with --resume`, `no ${flag}: a resumed run keeps ${storedText(attribute, state)}`, given);
  }
}

const lrText = (x: number) => x.toExponential(1);

/**
 * What a new total does to the schedule: `--steps` on a resume is the total to reach, and the schedule's
 * end moves with it (undefined when nothing changes). Core refuses a total at or below the steps done.
 */
export function resumeStepsNote(state: CheckedTrainerState, steps: number | undefined): string | undefined {
  const done = state.step;
  const before = state.spec.totalSteps;
  if (steps === undefined || steps <= done || steps === before) return undefined;
  const old = state.spec.trainer.schedule as ScheduleSpec;
  if (old.kind === 'constant') return `continuing to step ${steps} (was ${before}); the constant learning rate ${lrText(old.lr)} is unchanged`;
  const next = { ...old, total: steps } as ScheduleSpec;
  const now = learningRate(next, done);
  const where = done >= before ? `where the old schedule ended at ${lrText(learningRate(old, before - 1))}` : `was ${lrText(learningRate(old, done))} on the ${before}-step schedule`;
  return `schedule ${steps > before ? 'extended' : 'shortened'}: ${old.kind} over ${steps} steps instead of ${before}; the learning rate at step ${done + 1} is ${lrText(now)} (${where})`;
}
