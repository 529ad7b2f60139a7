export type { DType } from './dtypes.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type RawTensor,
  type DecodedSafetensors,
} from './safetensors.js';
export { writeFileAtomic, writeDirAtomic } from './atomic.js';
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
} from './checkpoint.js';
