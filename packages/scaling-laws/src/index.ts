export { ScalingLawError, mismatch } from './errors.js';
export { LAW_NAMES, getLaw, thetaToParams, paramsToTheta, predictWithTheta, type LawForm, type LawName } from './laws.js';
export { lbfgs, type LbfgsOptions, type LbfgsResult, type Objective } from './lbfgs.js';
export { fitLaw, objective, gridStarts, toLogData, type FitOptions, type FittedLaw, type LossName, type LogData } from './fit.js';
export { validatePoints, modelKey, MIN_MODEL_SIZES, type Point } from './points.js';
export { parseCsv, parseJsonl, parseDataset, splitCsv, parseSize, dropHighestLoss, GPT3_PARAMS, type ParseOptions } from './data.js';
export { readDataset } from './read.js';
export { mulberry32 } from './random.js';
