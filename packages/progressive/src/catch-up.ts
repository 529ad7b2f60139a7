/**
 * Catch-up after a growth (Bu 2025's "mixing time"): the grown model's loss spikes or lags, then meets
 * the curve of the same architecture trained from scratch. Measured on two loss curves over one axis
 * (steps or tokens); pure numbers, no tensors.
 */

export interface CurvePoint {
  x: number;
  y: number;
}

/** The reference curve's y at `x`, linear between its points; undefined outside it. */
function at(curve: readonly CurvePoint[], x: number): number | undefined {
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

export interface CatchUp {
  /** Where the grown curve first got to or below the reference after `from` (interpolated); undefined: it never did. */
  x?: number;
  /** x − from; 0 when the grown curve was at or below the reference at its first point after `from`. */
  after?: number;
  /** Grown minus reference at the grown curve's last point the reference covers (positive: still above). */
  finalGap?: number;
}

/**
 * The first x ≥ `from` at which `grown` (points after the growth, in increasing x) is at or below
 * `reference` at the same x, interpolated linearly between the two grown points around the crossing.
 * With `hold` > 1 it must stay at or below for that many points (or to the end of the comparison), so
 * that noisy curves crossing for a moment do not count.
 */
export function catchUp(grown: readonly CurvePoint[], reference: readonly CurvePoint[], from: number, hold = 1): CatchUp {
  const gaps = grown.filter((p) => p.x >= from).flatMap((p) => {
    const r = at(reference, p.x);
    return r === undefined ? [] : [{ x: p.x, gap: p.y - r }];
  });
  const finalGap = gaps.at(-1)?.gap;
  const i = gaps.findIndex((_, j) => gaps.slice(j, j + hold).every((g) => g.gap <= 0));
  if (i < 0) return { finalGap };
  if (i === 0) return { x: gaps[0].x, after: gaps[0].x - from, finalGap };
  const a = gaps[i - 1];
  const b = gaps[i];
  const x = a.x + (a.gap / (a.gap - b.gap)) * (b.x - a.x);
  return { x, after: x - from, finalGap };
}

/** Trailing mean over `window` points (fewer at the start): per-step training losses are noisy. */
export function trailingMean(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  values.forEach((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    out.push(sum / Math.min(i + 1, window));
  });
  return out;
}
