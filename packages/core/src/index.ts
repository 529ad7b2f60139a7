export { tf } from './tf.js';
export type { Tensor, NamedTensors } from './tf.js';
export { UserError, mismatch } from './errors.js';
export { selectBackend, backendNames, readsAreAsync, type BackendName, type BackendChoice } from './backend.js';

export * from './io/index.js';
export * from './data/index.js';
export * from './hf/index.js';
export * from './transform/index.js';
export { readText, readBytes, readJsonObject } from './io/read.js';

export { dimsOf, ffnKinds, parseConfig, validateConfig, llamaConfig, type ModelConfig, type Dims, type EfficientScaleExtras } from './model/config.js';
export { registerFfnKind, getFfnKind, registeredFfnKinds, averageFfnMetrics, readDeviceMetrics, type FfnKind, type FfnContext, type FfnOutput, type FfnMetrics, type FfnDeviceMetrics } from './model/ffn-slot.js';
export { denseFfn } from './model/dense-ffn.js';
export { weightTable, residualWriters, type WeightInfo, type WeightRole, type WeightSpec } from './model/weights.js';
export { paramShapes, checkParams, countParams, initParams, layerPrefix, type Params } from './model/params.js';
export { forward, forwardWithAux, type ForwardResult, type ForwardTap, type ForwardOptions } from './model/forward.js';
export { flopsPerToken, type FlopCount } from './model/flops.js';
export { loadModel, saveModel, disposeModel, type LoadedModel } from './model/load.js';
export { generate, eosTokens, type GenerateOptions } from './model/generate.js';
export { toRaw, fromRaw, mapValues, prefetchToHost } from './model/raw.js';

export { crossEntropy } from './train/loss.js';
export { AdamW, defaultAdamW, type AdamWOptions } from './train/adamw.js';
export { clipByGlobalNorm, clipByGlobalNormOnDevice, globalNorm } from './train/clip.js';
export { learningRate, wsdSchedule, type ScheduleSpec } from './train/schedule.js';
export { Trainer, type TrainerOptions, type TrainerState, type StepMetrics, type PendingStep } from './train/trainer.js';
export { startRun, continueRun, assertNewRunDir, truncateMetrics, readRunInfo, runPaths, resolveCheckpointDir, type RunSpec, type RunResult, type Progress, type StartOptions, type ContinueOptions } from './train/run.js';
export { loadStartingPoint, disposeStartingPoint, type StartingPoint } from './train/init-from.js';
export { readMetrics, appendMetrics, type MetricsRecord } from './train/metrics.js';
export { presets, getPreset, type Preset } from './train/presets.js';
export { gelu, swiglu } from './ops/fused.js';
