/**
 * A stage that transforms the previous stage's checkpoint (grow, upcycle, lowrank) into its own
 * checkpoint directory through core's transformCheckpoint, optimizer moments (where the technique maps
 * them) and trainer_state.json carried along so training continues.
 */
import { splitTrainVal, tf, type ModelConfig, type Tokenizer } from '@efficientscale/core';
import type { PlannedStage } from './layout.js';
import { stagePlan, stageSummary, type TransformStage } from './transforms.js';
import { checkpointOf, clearStageDir } from './stage-dir.js';
import { transformCheckpoint } from '@efficientscale/core/node';

export interface TransformContext {
  corpus: { text: string };
  tokenizer: Tokenizer;
  seq: number;
}

/** k-means routers cluster FFN inputs of text from the training split (the first 8 sequences); the logit gap is measured on them too. */
function calibrationTokens(ctx: TransformContext, config: ModelConfig): tf.Tensor2D {
  const { train } = splitTrainVal(ctx.tokenizer.encode(ctx.corpus.text.slice(0, 200_000)), 0.02);
  const seq = Math.min(ctx.seq, config.max_position_embeddings ?? 2048);
  const rows = Math.max(1, Math.min(8, Math.floor(train.length / seq)));
  return tf.tensor2d(train.subarray(0, rows * seq), [rows, seq], 'int32');
}

export function runTransformStage(ctx: TransformContext, p: PlannedStage, previous: PlannedStage): { config: ModelConfig; summary: string; report: object } {
  clearStageDir(p.dir);
  const stage = p.stage as TransformStage;
  const calibration = calibrationTokens(ctx, previous.config);
  try {
    const r = transformCheckpoint(checkpointOf(previous.dir), checkpointOf(p.dir), ({ config, params }) => stagePlan(stage, { config, params, calibration }), { probeTokens: calibration, carryTrainerState: true });
    return { config: r.config, summary: stageSummary(stage, r.report, r.probe), report: { ...r.report, ...(r.probe ? { probe: r.probe } : {}) } };
  } finally {
    calibration.dispose();
  }
}
