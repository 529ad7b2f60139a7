export { SafetensorsFile } from './safetensors-file.js';
export { CheckpointTensors, type TensorInfo } from './checkpoint-tensors.js';
export { loadHfModel, readHfConfig, openCheckedTensors, checkFinite } from './load-model.js';
export { float32Config } from './write-config.js';
export { streamTransform, type OutputTensor, type StreamOptions, type StreamResult } from './stream-transform.js';
