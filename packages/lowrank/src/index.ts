import { registerFfnKind } from '@efficientscale/core';
import { lowrankFfn } from './ffn.js';

// Importing the package makes `lowrank` a known FFN kind for core's forward, params and FLOPs.
registerFfnKind(lowrankFfn);

export { lowrankFfn, uName, vName, sharedVName } from './ffn.js';
export { lowrankConfig, type LowRankConfigOptions } from './configure.js';
export { breakEvenRank, rankForFraction, layerRanks, lowRankOptions, ffnWeights, type LowRankOptions, type LayerRanks, type FfnWeight } from './options.js';
export { exactSvd, randomizedSvd, orthonormalize, balancedFactors, disposeSvd, type Svd, type RandomizedSvdOptions } from './svd.js';
export { jacobiSvd, type SmallSvd } from './linalg.js';
export { toLowRank, planLowRank, lowRankStats, type ToLowRankOptions, type LowRankPlanOptions, type LowRankPlanReport, type LowRankStats, type ToLowRankReport, type WeightReport } from './convert.js';
export { toDense, planDense, type ToDenseReport } from './dense.js';
export { ffnCovariances, type FfnCovariance } from './calibration.js';
export { spectralInitParams } from './init.js';
export { guideAlpha, withGuideAlpha, dropGuide } from './guide.js';
export { selfGuidedBetweenSteps, guideWeightsFromFactors } from './guide-run.js';
