/** Compute to reach a loss, read off an eval curve, and the saving against a baseline. */

export interface CurvePoint {
  /** Cumulative training FLOPs (or tokens) at the evaluation. */
  x: number;
  /** Eval loss there. */
  y: number;
}

/**
 * The first x at which the curve reaches `target` (y ≤ target), interpolated linearly between the
 * two evaluations around the crossing; undefined when the curve never gets there. Points must be in
 * increasing x.
 */
export function firstReach(curve: readonly CurvePoint[], target: number): number | undefined {
  for (let i = 0; i < curve.length; i++) {
    if (curve[i].y > target) continue;
    if (i === 0) return curve[0].x;
    const a = curve[i - 1];
    const b = curve[i];
    return a.x + ((a.y - target) / (a.y - b.y)) * (b.x - a.x);
  }
  return undefined;
}

/** The curve's y at `x`, interpolated linearly between the evaluations around it; undefined outside the curve. */
export function valueAt(curve: readonly CurvePoint[], x: number): number | undefined {
  for (let i = 0; i < curve.length; i++) {
    if (curve[i].x < x) continue;
    if (curve[i].x === x) return curve[i].y;
    if (i === 0) return undefined;
    const a = curve[i - 1];
    const b = curve[i];
    return a.y + ((x - a.x) / (b.x - a.x)) * (b.y - a.y);
  }
  return undefined;
}

export interface Saving {
  /** The baseline's final eval loss: the bar the pipeline has to reach. */
  targetLoss: number;
  baselineFlops: number;
  /** FLOPs the pipeline had spent when its eval loss first reached the target; undefined: not reached. */
  pipelineFlops?: number;
  /** 1 − pipelineFlops / baselineFlops (negative: the pipeline needed more). */
  saving?: number;
  /** The pipeline's final eval loss, and the baseline's at the same FLOPs (interpolated; undefined if the baseline never got that far). */
  pipelineFinal?: CurvePoint;
  baselineAtPipelineFlops?: number;
}

/** The pipeline's FLOPs to reach the baseline's final eval loss, and the saving in FLOPs. */
export function flopSaving(pipeline: readonly CurvePoint[], baseline: readonly CurvePoint[]): Saving {
  const last = baseline[baseline.length - 1];
  if (!last) throw new Error('flopSaving: the baseline curve is empty');
  const reach = firstReach(pipeline, last.y);
  const final = pipeline[pipeline.length - 1];
  return {
    targetLoss: last.y,
    baselineFlops: last.x,
    pipelineFlops: reach,
    saving: reach === undefined ? undefined : 1 - reach / last.x,
    pipelineFinal: final,
    baselineAtPipelineFlops: final ? valueAt(baseline, final.x) : undefined,
  };
}
