export { ScalingLawError, mismatch } from './errors.js';
export { LAW_NAMES, getLaw, thetaToParams, paramsToTheta, predictWithTheta, type LawForm, type LawName } from './laws.js';
export { lbfgs, type LbfgsOptions, type LbfgsResult, type Objective } from './lbfgs.js';
export { fitLaw, objective, gridStarts, fixedThetaOf, TWO_SIZES_WARNING, toLogData, type FitOptions, type FittedLaw, type LossName, type LogData } from './fit.js';
export { validatePoints, modelKeys, sizeClusters, countModelSizes, MIN_MODEL_SIZES, SIZE_TOLERANCE, type Point } from './points.js';
export { parseCsv, parseJsonl, parseDataset, splitCsv, parseSize, dropHighestLoss, GPT3_PARAMS, type ParseOptions } from './data.js';
export { mulberry32 } from './random.js';
export { bootstrapFit, type BootstrapOptions, type BootstrapResult } from './bootstrap.js';
export { predictLoss, planCompute, chinchillaOptimum, estimateParams, type LawEstimate, type Estimate, type ComputePlan } from './plan.js';
export { toLawFile, parseLawFile, LAW_FILE_FORMAT, LAW_FILE_VERSION, type LawFile } from './lawfile.js';
export { evaluateFamily, evaluateFamilies, cutoffText, type Cutoff, type ProtocolOptions, type FamilyEvaluation, type TestPrediction } from './protocol.js';
export { quantile, percentileInterval, standardDeviation } from './stats.js';
export { resolveFixed } from './fixed.js';
export { dropEarlyCheckpoints } from './early.js';
export { handleSizeChanges, sizeChangeText, SIZE_CHANGE_POLICIES, type SizeChange, type SizeChangePolicy } from './size-changes.js';
export { checkSchedule, forwardArea, lrDrops, annealingArea, annealingAreaOfDrops } from './lr-areas.js';
export { parseRunCurve, checkCurveRun, truncateCurve, warmupSteps, type CurveRun, type CurveLossColumn, type CurveParseOptions } from './curve-run.js';
export {
  CURVE_LAW_NAMES,
  getCurveLaw,
  isCurveLawName,
  curveFeatures,
  curveParams,
  curveTheta,
  DEFAULT_MAX_BINS,
  type CurveLawName,
  type CurveLawForm,
  type CurveFeatures,
  type ParamTransform,
} from './curve-laws.js';
export { fitCurveLaw, curvePointsKept, runSizes, MIN_CURVE_POINTS, TWO_SIZES_CURVE_WARNING, type CurveFitOptions, type FittedCurveLaw, type CurveRunSummary } from './curve-fit.js';
export { bootstrapCurveFit, type CurveBootstrapOptions, type CurveBootstrapResult, type CurveBootstrapUnit } from './curve-bootstrap.js';
export { predictCurve, predictContinuation, evenSteps, type CurveLawEstimate, type CurvePrediction, type ContinuationPrediction } from './curve-predict.js';
export { toCurveLawFile, parseCurveLawFile, isCurveLawFile, type CurveLawFile } from './curve-lawfile.js';
