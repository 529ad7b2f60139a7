// The Node-only part of core: files, checkpoints on disk, streamed transforms, runs, the embedded corpus
// and file-based tokenizers. It re-exports the browser-safe main entry, so Node code imports everything
// from here; the build shares one copy of the main entry's code between both (one UserError, one registry).
export * from './index.js';
export * from './io/index.js';
export * from './data/index.js';
export * from './hf/index.js';
export * from './transform/index.js';
export { readText, readBytes, readJsonObject } from './io/read-file.js';
export { loadModel, saveModel, disposeModel, type LoadedModel } from './model/load.js';
export { startRun, continueRun, assertNewRunDir, truncateMetrics, readRunInfo, runPaths, resolveCheckpointDir, type RunSpec, type RunResult, type Progress, type StartOptions, type ContinueOptions } from './train/run.js';
export { loadStartingPoint, disposeStartingPoint, type StartingPoint } from './train/init-from.js';
export { readMetrics, appendMetrics, type MetricsRecord } from './train/metrics.js';
export { assertTrainingFits, availableMemory, MEMORY_ENV } from './train/memory-check.js';
