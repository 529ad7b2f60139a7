import './register.js';

export { moeFfn } from './moe-ffn.js';
export { moeSettings, routerWeight, expertWeight, sharedWeight, type MoeSettings, type RoutingMode } from './moe-config.js';
export { topKIndices, routingWeights, loadBalancingLoss, routerZLoss } from './routing.js';
export { dispatch, expertForward, groupByExpert, type ExpertWeights, type Grouping } from './dispatch.js';
export { upcycle, planUpcycle, upcycleStats, upcycledModelConfig, defaultCalibration, type UpcycleReport, type UpcyclePlanReport, type UpcycleResult, type UpcycleStats } from './upcycle.js';
export type { UpcycleOptions, UpcyclePlanOptions, RouterInit } from './upcycle-options.js';
export { ffnInputs } from './capture.js';
export { kmeans } from './kmeans.js';
export { expertLoad, expertLoadMetric, droppedMetric, summarizeExpertLoad, formatExpertLoad, DeadExpertWatch, type LayerLoad } from './expert-load.js';
