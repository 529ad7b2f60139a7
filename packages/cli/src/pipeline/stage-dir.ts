/**
 * A stage's directory: `checkpoint/` (the model after the stage), `metrics.jsonl` for stages that
 * train, and `stage.json`, written last, which marks the stage complete. A re-run skips a complete
 * stage, but only if the plan still asks for the same stage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mismatch, runPaths, writeFileAtomic } from '@efficientscale/core/node';
import type { Stage } from './plan.js';

export const STAGE_FORMAT = 'efficientscale-pipeline-stage-1';

/** What a finished stage measured (stage.json). Counters ending in `_end` are cumulative over the pipeline. */
export interface StageRecord {
  format: typeof STAGE_FORMAT;
  label: string;
  stage: Stage;
  /** The plan settings and stages this stage depends on: a re-run with other inputs is refused, not skipped. */
  inputs: object;
  params: number;
  active_params: number;
  steps: number;
  tokens: number;
  tokens_end: number;
  flops: number;
  flops_end: number;
  wall_s: number;
  tokens_per_s?: number;
  train_loss?: number;
  eval_loss?: number;
  summary: string;
}

export const stageFile = (dir: string) => path.join(dir, 'stage.json');
export const checkpointOf = (dir: string) => runPaths(dir).checkpoint;
export const hasCheckpoint = (dir: string) => fs.existsSync(path.join(checkpointOf(dir), 'config.json'));

/** The stage's record if it completed with the same plan entry; undefined if it has not completed. */
export function completedStage(dir: string, inputs: object): StageRecord | undefined {
  const file = stageFile(dir);
  if (!fs.existsSync(file)) return undefined;
  let record: StageRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as StageRecord;
  } catch {
    throw mismatch(file, 'a stage record (JSON)', `unreadable JSON; delete ${dir} to run the stage again`);
  }
  if (JSON.stringify(record.inputs) !== JSON.stringify(inputs)) {
    throw mismatch(file, 'a stage run with the plan as it is now', `one run with other settings or earlier stages; delete ${dir} and the later stages' directories to run them again`);
  }
  if (!hasCheckpoint(dir)) throw mismatch(dir, 'a checkpoint/ next to stage.json', 'none (a damaged stage; delete the directory to run it again)');
  return record;
}

export function writeStageRecord(dir: string, record: Omit<StageRecord, 'format'>): StageRecord {
  const full: StageRecord = { format: STAGE_FORMAT, ...record };
  writeFileAtomic(stageFile(dir), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Clears what an incomplete stage left that cannot be resumed (a transform killed mid-way, a run killed before its first checkpoint). */
export function clearStageDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
