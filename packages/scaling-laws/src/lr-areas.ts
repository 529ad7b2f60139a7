import { mismatch } from './errors.js';

/**
 * The learning-rate areas the whole-curve laws are written in. A schedule is the LR of every optimizer
 * step: `lr[i]` is the LR of step i + 1 (the loss logged at step s was measured after s updates).
 */

/** Checks a schedule: at least one step, every LR finite and ≥ 0. */
export function checkSchedule(lr: ArrayLike<number>, what = 'learning-rate schedule'): void {
  if (lr.length === 0) throw mismatch(what, 'at least one step', 'none');
  for (let i = 0; i < lr.length; i++) {
    const v = lr[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw mismatch(`${what}: step ${i + 1}`, 'a finite learning rate ≥ 0', String(v));
  }
}

/** S1 after every step: the forward area Σ_{i≤s} η_i (warmup included). */
export function forwardArea(lr: ArrayLike<number>): Float64Array {
  const out = new Float64Array(lr.length);
  let sum = 0;
  for (let i = 0; i < lr.length; i++) out[i] = sum += lr[i];
  return out;
}

/**
 * The LR drop at every step, Δ_s = η_{s−1} − η_s, counted from the schedule's first decrease on: the
 * initial warmup (and a stable phase after it) adds nothing, while a later rise (a re-warmup) counts as a
 * negative drop. Tissue et al. and Luo et al. both measure annealing from the end of warmup; this is
 * that rule for any schedule, so a constant schedule (with or without warmup) has no drops at all.
 */
export function lrDrops(lr: ArrayLike<number>): Float64Array {
  const out = new Float64Array(lr.length);
  let peak = 0;
  for (let i = 0; i < lr.length; i++) peak = Math.max(peak, lr[i]);
  const rounding = 1e-9 * peak; // a warmup's (peak·k)/k may land one ulp off the peak: not a drop
  let annealing = false;
  for (let i = 1; i < lr.length; i++) {
    const drop = lr[i - 1] - lr[i];
    if (Math.abs(drop) <= rounding) continue;
    if (drop > 0) annealing = true;
    if (annealing) out[i] = drop;
  }
  return out;
}

/**
 * S2 after every step: the annealing area of Tissue et al. (arXiv 2408.11029), S2(s) = Σ_{i≤s} m_i with
 * the momentum m_i = λ·m_{i−1} + Δ_i. A drop Δ at step k adds Δ·(1 − λ^{s−k+1})/(1 − λ) by step s: it
 * acts fully only after about 1/(1 − λ) steps, which is the delay seen after an LR drop. λ = 0 gives the
 * plain drop η_peak − η_s.
 */
export function annealingArea(lr: ArrayLike<number>, lambda: number): Float64Array {
  if (!(lambda >= 0 && lambda < 1)) throw mismatch('annealing decay lambda', 'a number in [0, 1)', String(lambda));
  return annealingAreaOfDrops(lrDrops(lr), lambda);
}

/** S2 from precomputed drops (see annealingArea); when `dLambda` is given, writes dS2/dλ at every step into it. */
export function annealingAreaOfDrops(drops: Float64Array, lambda: number, dLambda?: Float64Array): Float64Array {
  const out = new Float64Array(drops.length);
  let m = 0;
  let dm = 0;
  let sum = 0;
  let dsum = 0;
  for (let i = 0; i < drops.length; i++) {
    dm = m + lambda * dm; // d/dλ of λ·m_{i−1} + Δ_i, using the previous m
    m = lambda * m + drops[i];
    sum += m;
    dsum += dm;
    out[i] = sum;
    if (dLambda) dLambda[i] = dsum;
  }
  return out;
}
