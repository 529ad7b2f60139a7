// Browser-safe: nothing reachable from here reads or writes files; growCheckpoint is in node.ts
// (`@efficientscale/progressive/node`).
export { growDepth, planDepth, depthMethods, spreadSources, type DepthMethod, type DepthOptions, type DepthPlanOptions, type DepthReport, type GrowResult } from './depth.js';
export { logitsOf, maxLogitGap, probeTokens } from './probe.js';
export { recipeOutputs, type OptimizerState, type Recipe, type Recipes } from './remap.js';
export { growWidth, planWidth, widthMethods, type WidthMethod, type WidthOptions, type WidthPlanOptions, type WidthReport } from './width.js';
export { planGrow, growModel, type GrowOptions, type GrowPlanReport, type GrowModelResult } from './checkpoint.js';
export { trainProgressive, type GrowthStage, type ProgressiveOptions, type ProgressiveResult } from './progressive.js';
export { planProgressive, growStage, newBlockLrScale, progressiveMethods, type ProgressiveMethod, type ProgressivePlan, type ProgressivePlanOptions } from './schedule.js';
export { catchUp, trailingMean, type CatchUp, type CurvePoint } from './catch-up.js';
export { placeGrowth, runPilot, type PilotOptions, type PilotResult } from './pilot.js';
