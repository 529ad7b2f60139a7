export { tf } from './tf.js';
export type { Tensor, NamedTensors } from './tf.js';
export { UserError, mismatch } from './errors.js';
export { selectBackend, backendNames, readsAreAsync, type BackendName, type BackendChoice } from './backend.js';

// Browser-safe: nothing reachable from this entry imports a `node:` module. Files, checkpoints on disk,
// runs and the embedded corpus are in node.ts (`@efficientscale/core/node`); core/src/entries.test.ts
// bundles this entry for a browser to keep it so.
export type { DType } from './io/dtypes.js';
export { encodeSafetensors, decodeSafetensors, type RawTensor, type DecodedSafetensors } from './io/safetensors.js';
export { assertFinite, firstNonfinite } from './io/nonfinite.js';
export { checkTrainerState, checkOptimizerTensors, trainerStateSchema, TRAINER_STATE_FORMAT, type CheckedTrainerState } from './io/trainer-state.js';
export { ByteTokenizer, tokenizerKinds, type Tokenizer, type HuggingFaceTokenizer } from './data/tokenizer.js';
export { byteTokenizerJson } from './data/byte-level-json.js';
export { createRng, restoreRng, type Rng, type RngState } from './data/rng.js';
export { splitTrainVal, BatchSampler, evalBatches, type Batch, type SamplerOptions, type SamplerState } from './data/batches.js';
export { unigramEntropy } from './data/unigram.js';
export { float32Config } from './hf/write-config.js';
export { checkpointFiles, modelFiles, CONFIG_FILE, MODEL_FILE, MODEL_INDEX_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE, type CheckpointFileContents } from './io/checkpoint-files.js';
export { tokenizerFiles, generationConfig, TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, GENERATION_CONFIG_FILE, SPECIAL_TOKENS_FILE, TOKENIZER_FILES } from './hf/tokenizer-file-set.js';
export { copyOutput, withoutMoments, chainPlans, cachedReader, mapsMoments, elementsOf, type PlanOutput, type TransformPlan, type ReadTensor, type MomentKind } from './transform/plan.js';
export { applyPlan, checkPlan, transformInMemory, type AppliedPlan, type InMemoryResult } from './transform/run.js';
export { logitGap, logitGapAsync, probeTokens, type LogitGap } from './transform/probe.js';

export { dimsOf, ffnKinds, parseConfig, validateConfig, llamaConfig, type ModelConfig, type Dims, type EfficientScaleExtras } from './model/config.js';
export { registerFfnKind, getFfnKind, registeredFfnKinds, averageFfnMetrics, readDeviceMetrics, type FfnKind, type FfnContext, type FfnOutput, type FfnMetrics, type FfnDeviceMetrics } from './model/ffn-slot.js';
export { denseFfn } from './model/dense-ffn.js';
export { modelSpec, type ModelSpec } from './model/spec.js';
export { withFfnKinds, withFfnOptions } from './model/config-edit.js';
export { weightTable, residualWriters, type WeightInfo, type WeightRole, type WeightSpec } from './model/weights.js';
export { paramShapes, checkParams, countParams, initParams, layerPrefix, type Params } from './model/params.js';
export { forward, forwardWithAux, type ForwardResult, type ForwardTap, type ForwardOptions, type ForwardPoint } from './model/forward.js';
export { locateNonfinite, describePoint } from './model/diagnose.js';
export { trainingMemory, formatBytes, type MemoryEstimate } from './model/memory.js';
export { flopsPerToken, type FlopCount } from './model/flops.js';
export { generate, eosTokens, type GenerateOptions } from './model/generate.js';
export { toRaw, fromRaw, mapValues } from './model/raw.js';
export { onHost, prefetchToHost } from './host.js';

export { crossEntropy } from './train/loss.js';
export { evaluateLoss, type EvaluatedLoss } from './train/evaluate.js';
export { AdamW, defaultAdamW, type AdamWOptions } from './train/adamw.js';
export { clipByGlobalNorm, clipByGlobalNormOnDevice, globalNorm } from './train/clip.js';
export { learningRate, wsdSchedule, type ScheduleSpec } from './train/schedule.js';
export { Trainer, type TrainerOptions, type TrainerState, type StepMetrics, type PendingStep } from './train/trainer.js';
export { presets, getPreset, type Preset } from './train/presets.js';
export { gelu, swiglu } from './ops/fused.js';
