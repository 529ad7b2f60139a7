/**
 * A new run's starting point taken from a checkpoint (nanoGPT's `init_from`, composer's
 * `load_weights_only`): its config and weights and, when it has them, its AdamW moments with their Adam
 * step. Nothing else carries: the new run's step, token and FLOP counters start at 0, and its data
 * position, schedule and settings are its own. Any checkpoint directory serves: a run's, a transform's
 * output (grown, upcycled, low-rank, exported, streamed) or a Hugging Face one (sharded, F16/BF16).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { OPTIMIZER_FILE, TRAINER_STATE_FILE } from '../io/checkpoint.js';
import { assertFinite } from '../io/nonfinite.js';
import { readJsonObject } from '../io/read-file.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { checkOptimizerTensors, checkTrainerState } from '../io/trainer-state.js';
import { loadHfModel } from '../hf/load-model.js';
import type { ModelConfig } from '../model/config.js';
import { paramShapes, type Params } from '../model/params.js';
import { fromRaw, mapValues } from '../model/raw.js';

export interface StartingPoint {
  /** The checkpoint directory it was read from. */
  dir: string;
  config: ModelConfig;
  params: Params;
  /** AdamW moments `m.<weight>`, `v.<weight>` (a weight without them starts at zero). */
  optimizer?: Record<string, tf.Tensor>;
  /** Adam's step count of those moments, so bias correction goes on as in the run that warmed them; 0 without moments. */
  optimizerStep: number;
}

/** A checkpoint directory `dir` (not a run directory: see resolveCheckpointDir) as a starting point; the caller disposes its tensors. */
export function loadStartingPoint(dir: string): StartingPoint {
  const model = loadHfModel(dir);
  const file = path.join(dir, OPTIMIZER_FILE);
  if (!fs.existsSync(file)) return { dir, ...model, optimizerStep: 0 };
  try {
    const moments = readSafetensors(file).tensors;
    checkOptimizerTensors(moments, paramShapes(model.config), file);
    assertFinite(moments, file, '');
    // Warm moments keep their Adam step: bias correction restarted at 1 would scale the first update by
    // √(1 − β2)/(1 − β1), 2.24× with the defaults (β1 0.9, β2 0.95).
    const stateFile = path.join(dir, TRAINER_STATE_FILE);
    const optimizerStep = fs.existsSync(stateFile) ? checkTrainerState(readJsonObject(stateFile), stateFile).optimizerStep : 0;
    return { dir, ...model, optimizer: mapValues(moments, fromRaw), optimizerStep };
  } catch (err) {
    tf.dispose(Object.values(model.params));
    throw err;
  }
}

export function disposeStartingPoint(s: StartingPoint): void {
  tf.dispose([...Object.values(s.params), ...Object.values(s.optimizer ?? {})]);
}
