/**
 * A stage that trains, through core's run lifecycle: the first stage starts a run (core's startRun: from
 * a fresh initialisation, or `from` a checkpoint as `train --init-from` does); the baseline starts fresh; a
 * later stage continues the previous stage's checkpoint under its own settings (core's continueRun with
 * the stage's spec: moments, data position and counters carry on, wall time restarts so each stage's
 * metrics time that stage alone). An interrupted stage resumes from its own last checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { continueRun, mismatch, startRun, type Corpus, type Progress, type RunResult, type RunSpec, type Tokenizer } from '@efficientscale/core/node';
import type { PlannedStage } from './layout.js';
import type { Plan, TrainStage } from './plan.js';
import { fromCheckpointDir } from './model.js';
import { stageSpec } from './spec.js';
import { checkpointOf, clearStageDir, hasCheckpoint } from './stage-dir.js';

export interface TrainContext {
  plan: Plan;
  corpus: Corpus;
  tokenizer: Tokenizer;
  onProgress?: (p: Progress) => void;
  /** Stop this stage after this many of its own steps (a checkpoint is written there): for tests of resume. */
  stopAfterSteps?: number;
}

/** An interrupted stage resumes only with the settings it started with (steps, learning rate, schedule, batch). */
export function assertSameSpec(p: PlannedStage, spec: RunSpec): void {
  const file = path.join(checkpointOf(p.dir), 'trainer_state.json');
  const stored = (JSON.parse(fs.readFileSync(file, 'utf8')) as { spec?: RunSpec }).spec;
  if (!isDeepStrictEqual(stored, spec)) {
    throw mismatch(file, `the settings the plan gives stages[${p.index}] (${JSON.stringify(spec.trainer.schedule)}, ${spec.totalSteps} steps)`, `a stage started with other settings; delete ${p.dir} to start it again`);
  }
}

export async function runTrainStage(ctx: TrainContext, p: PlannedStage, previous: PlannedStage | undefined): Promise<RunResult> {
  const stopAfter = ctx.stopAfterSteps === undefined ? undefined : p.startStep + ctx.stopAfterSteps;
  const spec = stageSpec(ctx.plan, p, ctx.corpus.source);
  const common = { outDir: p.dir, text: ctx.corpus.text, onProgress: ctx.onProgress, stopAfter };
  if (hasCheckpoint(p.dir)) {
    assertSameSpec(p, spec);
    return continueRun(common);
  }
  // Killed before its first checkpoint: nothing worth keeping (startRun refuses a non-empty directory).
  clearStageDir(p.dir);
  if (p.startStep === 0) {
    const stage = p.stage as TrainStage;
    const model = stage.from !== undefined ? { initFrom: fromCheckpointDir(ctx.plan, stage) } : { config: p.config };
    return startRun({ ...common, ...model, tokenizer: ctx.tokenizer, spec });
  }
  if (!previous) throw mismatch(`stages[${p.index}]`, 'a stage before it to continue from', 'none');
  return continueRun({ ...common, from: checkpointOf(previous.dir), spec });
}
