export type { DType, StoredFloat } from './dtypes.js';
export { encodeFloats } from './dtypes.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  type RawTensor,
  type DecodedSafetensors,
} from './safetensors.js';
export { readSafetensors, writeSafetensors } from './safetensors-fs.js';
export { writeFileAtomic, writeDirAtomic } from './atomic.js';
export { assertWritableLocation, assertOutputFile, assertOutputFilesIn, assertNewOutputDir, isCheckpointDir, makeDirs, type OutputFileOptions } from './output-path.js';
export {
  saveCheckpoint,
  loadCheckpointFiles,
  readCheckpointText,
  CONFIG_FILE,
  MODEL_FILE,
  MODEL_INDEX_FILE,
  OPTIMIZER_FILE,
  TRAINER_STATE_FILE,
  type CheckpointContents,
  type LoadedCheckpoint,
  type LoadOptions,
} from './checkpoint.js';
export { assertFinite, firstNonfinite } from './nonfinite.js';
export { checkTrainerState, checkOptimizerTensors, trainerStateSchema, TRAINER_STATE_FORMAT, type CheckedTrainerState } from './trainer-state.js';
