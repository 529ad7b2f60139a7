import { assertNewOutputDir, checkParams, fromRaw, loadCheckpointFiles, mapValues, mismatch, resolveCheckpointDir, saveCheckpoint, tf, toRaw, validateConfig, type ModelConfig, type Params } from '@efficientscale/core';
import * as path from 'node:path';
import { growDepth, type DepthMethod, type DepthReport } from './depth.js';
import { growWidth, type WidthMethod, type WidthReport } from './width.js';
import { sizeOf } from './dims.js';
import { maxLogitGap } from './probe.js';
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

export interface GrowReport {
  inDir: string;
  outDir: string;
  paramsBefore: number;
  paramsAfter: number;
  /** Every step was function-preserving by construction. */
  exact: boolean;
  /** max |logits before − logits after| on a fixed probe batch, measured. */
  maxLogitGap: number;
  optimizerState: boolean;
  width?: WidthReport;
  depth?: DepthReport;
}

export interface GrowModelResult {
  config: ModelConfig;
  params: Params;
  optimizer?: OptimizerState;
  report: Omit<GrowReport, 'inDir' | 'outDir'>;
}

/** Width growth, then depth growth, as one transform (intermediate tensors are disposed). */
export function growModel(config: ModelConfig, params: Params, o: GrowOptions, optimizer?: OptimizerState): GrowModelResult {
  const wantsWidth = o.hidden !== undefined || o.heads !== undefined || o.kvHeads !== undefined || o.ffn !== undefined;
  if (!wantsWidth && o.layers === undefined) throw mismatch('grow options', 'at least one of hidden, heads, kvHeads, ffn, layers', 'none');
  let current: { config: ModelConfig; params: Params; optimizer?: OptimizerState } = { config, params, optimizer };
  let width: WidthReport | undefined;
  let depth: DepthReport | undefined;
  if (wantsWidth) {
    const w = growWidth(config, params, { hidden: o.hidden, heads: o.heads, kvHeads: o.kvHeads, ffn: o.ffn, method: o.widthMethod ?? 'fpi', seed: o.seed, optimizer, probe: false });
    current = w;
    width = w.report;
  }
  if (o.layers !== undefined) {
    const d = growDepth(current.config, current.params, { layers: o.layers, method: o.depthMethod ?? 'zero', exact: o.depthExact, seed: o.seed, optimizer: current.optimizer, probe: false });
    if (wantsWidth) tf.dispose([...Object.values(current.params), ...Object.values(current.optimizer ?? {})]);
    current = d;
    depth = d.report;
  }
  const report = {
    paramsBefore: sizeOf(params),
    paramsAfter: sizeOf(current.params),
    exact: (width?.exact ?? true) && (depth?.exact ?? true),
    maxLogitGap: maxLogitGap({ config, params }, current),
    optimizerState: optimizer !== undefined,
    width,
    depth,
  };
  return { config: current.config, params: current.params, optimizer: current.optimizer, report };
}

/**
 * Reads a checkpoint (a run directory works too), grows it, and writes the grown checkpoint to a new
 * directory atomically, with the optimizer moments grown alongside when present and trainer_state.json
 * carried over, so the run can resume from the grown model.
 */
export function growCheckpoint(inDir: string, outDir: string, options: GrowOptions): GrowReport {
  assertNewOutputDir(outDir);
  const dir = resolveCheckpointDir(inDir);
  const files = loadCheckpointFiles(dir);
  const source = path.join(dir, 'config.json');
  const config = validateConfig(files.config, source);
  checkParams(config, files.params, path.join(dir, 'model.safetensors'));
  const params = mapValues(files.params, fromRaw);
  const optimizer = files.optimizer ? mapValues(files.optimizer, fromRaw) : undefined;
  try {
    const grown = growModel(config, params, options, optimizer);
    saveCheckpoint(outDir, {
      config: grown.config,
      params: mapValues(grown.params, toRaw),
      optimizer: grown.optimizer ? mapValues(grown.optimizer, toRaw) : undefined,
      trainerState: files.trainerState,
      tokenizer: dir,
    });
    tf.dispose([...Object.values(grown.params), ...Object.values(grown.optimizer ?? {})]);
    return { inDir: path.resolve(dir), outDir: path.resolve(outDir), ...grown.report };
  } finally {
    tf.dispose([...Object.values(params), ...Object.values(optimizer ?? {})]);
  }
}
