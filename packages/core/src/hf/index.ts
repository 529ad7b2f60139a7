export { SafetensorsFile } from './safetensors-file.js';
export { CheckpointTensors, type TensorInfo } from './checkpoint-tensors.js';
export { loadHfModel, readHfConfig, openCheckedTensors, checkFinite } from './load-model.js';
export { float32Config, storedDtypeConfig } from './write-config.js';
export { checkpointTokenizer, checkpointTokenizerFiles, tokenizerFiles, tokenizerForCheckpoint, generationConfig, GENERATION_CONFIG_FILE, SPECIAL_TOKENS_FILE, TOKENIZER_FILES, type TokenizerSource } from './tokenizer-files.js';
