/**
 * A stage that transforms the previous stage's checkpoint (grow, upcycle, lowrank) into its own
 * checkpoint directory, optimizer moments and trainer_state.json carried along so training continues.
 */
import * as path from 'node:path';
import { checkParams, fromRaw, loadCheckpointFiles, mapValues, saveCheckpoint, splitTrainVal, tf, toRaw, validateConfig, type ModelConfig, type Tokenizer } from '@efficientscale/core';
import type { PlannedStage } from './layout.js';
import { applyTransform, type TransformStage } from './transforms.js';
import { checkpointOf, clearStageDir } from './stage-dir.js';

export interface TransformContext {
  corpus: { text: string };
  tokenizer: Tokenizer;
  seq: number;
}

/** k-means routers cluster FFN inputs of text from the training split (the first 8 sequences). */
function calibrationTokens(ctx: TransformContext, config: ModelConfig): tf.Tensor2D {
  const { train } = splitTrainVal(ctx.tokenizer.encode(ctx.corpus.text.slice(0, 200_000)), 0.02);
  const seq = Math.min(ctx.seq, config.max_position_embeddings ?? 2048);
  const rows = Math.max(1, Math.min(8, Math.floor(train.length / seq)));
  return tf.tensor2d(train.subarray(0, rows * seq), [rows, seq], 'int32');
}

export function runTransformStage(ctx: TransformContext, p: PlannedStage, previous: PlannedStage): { config: ModelConfig; summary: string; report: object } {
  clearStageDir(p.dir);
  const source = checkpointOf(previous.dir);
  const files = loadCheckpointFiles(source);
  const config = validateConfig(files.config, path.join(source, 'config.json'));
  checkParams(config, files.params, path.join(source, 'model.safetensors'));
  const params = mapValues(files.params, fromRaw);
  const optimizer = files.optimizer ? mapValues(files.optimizer, fromRaw) : undefined;
  const stage = p.stage as TransformStage;
  const calibration = stage.type === 'upcycle' && stage.routerInit === 'kmeans' ? calibrationTokens(ctx, config) : undefined;
  try {
    const out = applyTransform(stage, { config, params, optimizer }, calibration);
    saveCheckpoint(checkpointOf(p.dir), {
      config: out.config,
      params: mapValues(out.params, toRaw),
      optimizer: out.optimizer ? mapValues(out.optimizer, toRaw) : undefined,
      trainerState: files.trainerState,
      tokenizer: source,
    });
    tf.dispose([...Object.values(out.params), ...Object.values(out.optimizer ?? {})]);
    return { config: out.config, summary: out.summary, report: out.report };
  } finally {
    tf.dispose([...Object.values(params), ...Object.values(optimizer ?? {}), ...(calibration ? [calibration] : [])]);
  }
}
