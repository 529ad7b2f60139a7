export { growDepth, depthMethods, spreadSources, type DepthMethod, type DepthOptions, type DepthReport, type GrowResult } from './depth.js';
export { logitsOf, maxLogitGap, probeTokens } from './probe.js';
export { applyRecipes, type OptimizerState, type Recipe, type Recipes } from './remap.js';
export { growWidth, widthMethods, type WidthMethod, type WidthOptions, type WidthReport } from './width.js';
export { growModel, growCheckpoint, type GrowOptions, type GrowReport, type GrowModelResult } from './checkpoint.js';
export { trainProgressive, type GrowthStage, type ProgressiveOptions, type ProgressiveResult } from './progressive.js';
export { planProgressive, growStage, newBlockLrScale, progressiveMethods, type ProgressiveMethod, type ProgressivePlan, type ProgressivePlanOptions } from './schedule.js';
export { catchUp, trailingMean, type CatchUp, type CurvePoint } from './catch-up.js';
export { placeGrowth, runPilot, type PilotOptions, type PilotResult } from './pilot.js';
