import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mismatch, type CurveRun } from '@efficientscale/scaling-laws';
import { readRunCurve } from '@efficientscale/scaling-laws/node';
import { curveRunsOf } from './curve-runs.js';

/** The schedules `predict --schedule` names; anything else is a run directory. */
export const NAMED_SCHEDULES = ['constant', 'cosine', 'wsd'] as const;
export type NamedSchedule = (typeof NAMED_SCHEDULES)[number];

export interface ScheduleFlags {
  steps?: number;
  lr?: number;
  warmup?: number;
  decayFraction?: number;
  minRatio?: number;
}

/** A schedule to predict along: the LR of every step, what it is, and the run it came from when it did. */
export interface PredictSchedule {
  lr: Float64Array;
  description: string;
  run?: CurveRun;
}

// core (and tfjs with it) is loaded only when a schedule is built, so that the scaling-law commands start
// fast; the LR schedule itself is core's, the one training uses.
async function coreLearningRate() {
  return (await import('@efficientscale/core/node')).learningRate;
}

/** LRs of steps 1..steps of a named schedule, exactly as `efficientscale train` would run it. */
export async function namedSchedule(kind: NamedSchedule, flags: Required<Pick<ScheduleFlags, 'steps' | 'lr' | 'warmup'>> & ScheduleFlags): Promise<PredictSchedule> {
  const learningRate = await coreLearningRate();
  const { steps, lr, warmup } = flags;
  const spec =
    kind === 'constant'
      ? { kind, lr, warmup }
      : kind === 'cosine'
        ? { kind, lr, warmup, total: steps, minRatio: flags.minRatio }
        : { kind, lr, warmup, total: steps, decayFraction: flags.decayFraction, minRatio: flags.minRatio };
  const shape = kind === 'constant' ? '' : `, down to ${flags.minRatio ?? 0.1}× the peak${kind === 'wsd' ? ` over the last ${Math.round((flags.decayFraction ?? 0.2) * 100)}%` : ''}`;
  return {
    lr: Float64Array.from({ length: steps }, (_, i) => learningRate(spec, i)),
    description: `${kind} schedule, ${steps} steps, peak LR ${lr}, ${warmup} warmup steps${shape}`,
  };
}

interface StoredSpec {
  totalSteps?: number;
  trainer?: { schedule?: Parameters<Awaited<ReturnType<typeof coreLearningRate>>>[0] };
}

/** The run's planned schedule from its checkpoint's trainer_state.json, when it has one. */
function storedSpec(dir: string): StoredSpec | undefined {
  const file = join(dir, 'checkpoint', 'trainer_state.json');
  if (!existsSync(file)) return undefined;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { spec?: StoredSpec }).spec;
  } catch {
    return undefined;
  }
}

/** A run directory as it is; a pipeline output with one stage trained from scratch, that stage; with several, a one-line refusal naming them. */
function oneRunOf(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory() || existsSync(join(dir, 'metrics.jsonl'))) return dir;
  const runs = curveRunsOf(dir, () => undefined).map((r) => dirname(r.path));
  if (runs.length === 1) return runs[0];
  throw mismatch(dir, `one run's schedule (a pipeline output holds ${runs.length} runs from scratch: name one, e.g. ${runs.join(', ')})`, 'a pipeline output');
}

/**
 * A run's schedule: the LRs its metrics.jsonl logged and, for a run still training (or `steps` beyond
 * its log), the rest of the schedule its trainer_state.json plans.
 */
export async function runSchedule(dirIn: string, steps?: number, lossColumn?: 'eval_loss' | 'loss'): Promise<PredictSchedule> {
  const dir = oneRunOf(dirIn);
  const run = readRunCurve(dir, { lossColumn });
  const isDir = existsSync(dir) && statSync(dir).isDirectory();
  const spec = isDir ? storedSpec(dir) : undefined;
  const planned = steps ?? Math.max(run.lr.length, spec?.totalSteps ?? 0);
  let lr = run.lr.slice(0, planned);
  if (planned > run.lr.length) {
    const schedule = spec?.trainer?.schedule;
    if (!schedule) {
      throw mismatch(`${dir}: schedule`, `the LR of steps ${run.lr.length + 1}–${planned} (a checkpoint/trainer_state.json with the run's schedule)`, `a log of ${run.lr.length} steps and no schedule`);
    }
    const learningRate = await coreLearningRate();
    lr = Float64Array.from({ length: planned }, (_, i) => (i < run.lr.length ? run.lr[i] : learningRate(schedule, i)));
  }
  const logged = run.lr.length < planned ? ` (${run.lr.length} logged, the rest as planned)` : '';
  return { lr, description: `the schedule of ${run.name}, ${planned} steps${logged}`, run };
}
