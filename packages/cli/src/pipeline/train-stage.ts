/**
 * A stage that trains: the first stage and the baseline start fresh (core's startRun); a later stage
 * continues the previous stage's model with its optimizer moments, data position and counters (core's
 * resumeRun). An interrupted stage resumes from its own last checkpoint.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { BatchSampler, checkTrainerState, loadCheckpointFiles, loadModel, mapValues, mismatch, readSafetensors, resumeRun, saveCheckpoint, splitTrainVal, startRun, toRaw, tf, type Corpus, type Progress, type RunResult, type RunSpec, type Tokenizer } from '@efficientscale/core';
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

/**
 * The previous stage's checkpoint, copied into this stage's directory with this stage's settings in
 * trainer_state.json. Wall time restarts at 0 so that each stage's metrics time that stage alone.
 */
function writeContinuation(from: PlannedStage, to: PlannedStage, ctx: TrainContext): void {
  const source = checkpointOf(from.dir);
  const files = loadCheckpointFiles(source);
  if (!files.trainerState) throw mismatch(source, 'a trainer_state.json to continue training from', 'none');
  const spec = stageSpec(ctx.plan, to, ctx.corpus.source);
  saveCheckpoint(checkpointOf(to.dir), {
    config: files.config,
    params: files.params,
    // A transform that cannot carry moments (low-rank factors) leaves none: AdamW starts missing ones at zero.
    optimizer: files.optimizer ?? {},
    trainerState: { ...files.trainerState, spec, wallSeconds: 0 },
    tokenizer: source,
  });
}

/**
 * A first stage with \`from\`: the checkpoint's weights (F16/BF16 as float32, through core's loadModel) and
 * its Adam moments and their step count if it has them (else AdamW starts them at zero), written as this
 * stage's step-0 checkpoint: step, token and FLOP counters and the data position start afresh for this pipeline.
 */
function writeStartFromCheckpoint(p: PlannedStage, ctx: TrainContext): void {
  const dir = fromCheckpointDir(ctx.plan, p.stage as TrainStage);
  const model = loadModel(dir);
  const optimizerFile = path.join(dir, 'optimizer.safetensors');
  const optimizer = fs.existsSync(optimizerFile) ? readSafetensors(optimizerFile).tensors : {};
  // Warm moments keep their Adam step: bias correction restarted at 1 would scale the first update by
  // √(1 − β2)/(1 − β1), 2.24× with the defaults (β1 0.9, β2 0.95).
  const stateFile = path.join(dir, 'trainer_state.json');
  const carriedAdamStep = Object.keys(optimizer).length > 0 && fs.existsSync(stateFile)
    ? checkTrainerState(JSON.parse(fs.readFileSync(stateFile, 'utf8')), stateFile).optimizerStep
    : 0;
  const spec = stageSpec(ctx.plan, p, ctx.corpus.source);
  const { train } = splitTrainVal(ctx.tokenizer.encode(ctx.corpus.text), spec.valFraction);
  const sampler = new BatchSampler(train, { batchSize: spec.trainer.batchSize, seqLen: spec.trainer.seqLen, seed: spec.trainer.seed });
  try {
    saveCheckpoint(checkpointOf(p.dir), {
      config: model.config,
      params: mapValues(model.params, toRaw),
      optimizer,
      trainerState: {
        format: 'efficientscale-trainer-1',
        step: 0,
        tokens: 0,
        flops: 0,
        sampler: sampler.state,
        optimizerStep: carriedAdamStep,
        wallSeconds: 0,
        spec,
        tokenizer: ctx.tokenizer.toJSON(),
        lastTrainLoss: null,
        trainTokens: train.length,
      },
      tokenizer: ctx.tokenizer,
    });
  } finally {
    tf.dispose(Object.values(model.params));
  }
}

/** An interrupted stage resumes only with the settings it started with (steps, learning rate, schedule, batch). */
function assertSameSpec(p: PlannedStage, spec: RunSpec): void {
  const file = path.join(checkpointOf(p.dir), 'trainer_state.json');
  const stored = (JSON.parse(fs.readFileSync(file, 'utf8')) as { spec?: RunSpec }).spec;
  if (!isDeepStrictEqual(stored, spec)) {
    throw mismatch(file, `the settings the plan gives stages[${p.index}] (${JSON.stringify(spec.trainer.schedule)}, ${spec.totalSteps} steps)`, `a stage started with other settings; delete ${p.dir} to start it again`);
  }
}

export async function runTrainStage(ctx: TrainContext, p: PlannedStage, previous: PlannedStage | undefined): Promise<RunResult> {
  const stopAfter = ctx.stopAfterSteps === undefined ? undefined : p.startStep + ctx.stopAfterSteps;
  const common = { outDir: p.dir, text: ctx.corpus.text, onProgress: ctx.onProgress, stopAfter };
  if (hasCheckpoint(p.dir)) {
    assertSameSpec(p, stageSpec(ctx.plan, p, ctx.corpus.source));
    return resumeRun(common);
  }
  // Killed before its first checkpoint: nothing worth keeping (startRun refuses a non-empty directory).
  clearStageDir(p.dir);
  if (p.startStep === 0 && (p.stage as TrainStage).from !== undefined) {
    writeStartFromCheckpoint(p, ctx);
    return resumeRun(common);
  }
  if (p.startStep === 0) return startRun({ ...common, tokenizer: ctx.tokenizer, config: p.config, spec: stageSpec(ctx.plan, p, ctx.corpus.source) });
  if (!previous) throw mismatch(`stages[${p.index}]`, 'a stage before it to continue from', 'none');
  writeContinuation(previous, p, ctx);
  return resumeRun(common);
}
