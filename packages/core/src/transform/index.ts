export { copyOutput, withoutMoments, chainPlans, cachedReader, mapsMoments, elementsOf, type PlanOutput, type TransformPlan, type ReadTensor, type MomentKind } from './plan.js';
export { applyPlan, checkPlan, transformInMemory, type AppliedPlan, type InMemoryResult } from './run.js';
export { transformCheckpoint, type TransformInput, type TransformOptions, type TransformResult } from './checkpoint.js';
export { logitGap, probeTokens, type LogitGap } from './probe.js';
export { writeWeightsStreamed, writeSafetensorsStreamed, type TensorToWrite, type WrittenWeights } from './write.js';
