import { chainPlans, transformInMemory, mismatch, type ModelConfig, type Params, type TransformPlan } from '@efficientscale/core';
import { planDepth, type DepthMethod, type DepthReport } from './depth.js';
import { planWidth, type WidthMethod, type WidthReport } from './width.js';
import type { OptimizerState } from './remap.js';

export interface GrowOptions {
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  widthMethod?: WidthMethod;
  layers?: number;
  depthMethod?: DepthMethod;
  /** copy / interpolate / stack: false keeps the new layers' output projections (the function changes; see DepthOptions.exact). */
  depthExact?: boolean;
  seed?: number;
}

/** What a growth plan says before it runs. */
export interface GrowPlanReport {
  paramsBefore: number;
  paramsAfter: number;
  /** Every step is function-preserving by construction. */
  exact: boolean;
  width?: WidthReport;
  depth?: DepthReport;
}

export interface GrowModelResult {
  config: ModelConfig;
  params: Params;
  optimizer?: OptimizerState;
  report: GrowPlanReport & { maxLogitGap: number; optimizerState: boolean };
}

/** Width growth, then depth growth, as one plan (depth reads the widened tensors as they are computed). */
export function planGrow(config: ModelConfig, o: GrowOptions): TransformPlan<GrowPlanReport> {
  const wantsWidth = o.hidden !== undefined || o.heads !== undefined || o.kvHeads !== undefined || o.ffn !== undefined;
  if (!wantsWidth && o.layers === undefined) throw mismatch('grow options', 'at least one of hidden, heads, kvHeads, ffn, layers', 'none');
  const width = wantsWidth ? planWidth(config, { hidden: o.hidden, heads: o.heads, kvHeads: o.kvHeads, ffn: o.ffn, method: o.widthMethod ?? 'fpi', seed: o.seed }) : undefined;
  const depth = o.layers !== undefined ? planDepth(width?.config ?? config, { layers: o.layers, method: o.depthMethod ?? 'zero', exact: o.depthExact, seed: o.seed }) : undefined;
  const last = (depth ?? width)!;
  const report: GrowPlanReport = {
    paramsBefore: (width ?? depth)!.report.paramsBefore,
    paramsAfter: last.report.paramsAfter,
    exact: (width?.report.exact ?? true) && (depth?.report.exact ?? true),
    ...(width ? { width: width.report } : {}),
    ...(depth ? { depth: depth.report } : {}),
  };
  const outputs = width && depth ? chainPlans(width, depth).outputs : last.outputs;
  return { config: last.config, outputs, report };
}

/** Width growth, then depth growth, in memory (moments follow when given). */
export function growModel(config: ModelConfig, params: Params, o: GrowOptions, optimizer?: OptimizerState): GrowModelResult {
  const r = transformInMemory(planGrow(config, o), params, { sourceConfig: config, optimizer });
  return { config: r.config, params: r.params, optimizer: r.optimizer, report: { ...r.report, maxLogitGap: r.probe!.maxAbsLogitDiff, optimizerState: optimizer !== undefined } };
}
