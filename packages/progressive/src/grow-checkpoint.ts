/** Growth of a checkpoint directory (Node: reads and writes files). */
import { transformCheckpoint, type TransformOptions } from '@efficientscale/core/node';
import { planGrow, type GrowOptions, type GrowPlanReport } from './checkpoint.js';

export interface GrowReport extends GrowPlanReport {
  inDir: string;
  outDir: string;
  /** max |logits before − logits after| on a fixed probe batch, measured (absent when streamed: neither model is whole in memory). */
  maxLogitGap?: number;
  optimizerState: boolean;
  /** How the checkpoint was run through the plan. */
  mode: 'memory' | 'stream';
}

/**
 * Reads a checkpoint (a run directory or a Hugging Face directory works too), grows it, and writes the
 * grown checkpoint to a new directory atomically, the optimizer moments grown alongside when present and
 * trainer_state.json carried over so the run can resume from the grown model. `stream` reads and writes
 * tensor by tensor (any size); in memory the logit gap is measured.
 */
export function growCheckpoint(inDir: string, outDir: string, options: GrowOptions, run: TransformOptions = {}): GrowReport {
  const r = transformCheckpoint(inDir, outDir, ({ config }) => planGrow(config, options), run);
  return {
    inDir: r.from,
    outDir: r.out,
    ...r.report,
    ...(r.probe ? { maxLogitGap: r.probe.maxAbsLogitDiff } : {}),
    optimizerState: r.resumable,
    mode: r.mode,
  };
}
