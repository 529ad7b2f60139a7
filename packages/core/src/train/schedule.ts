/** Learning-rate schedules as pure functions of the step, so that a resumed run continues exactly. */
export type ScheduleSpec =
  | { kind: 'constant'; lr: number; warmup?: number }
  | { kind: 'cosine'; lr: number; warmup: number; total: number; minRatio?: number }
  | { kind: 'wsd'; lr: number; warmup: number; total: number; decayFraction?: number; minRatio?: number };

/** LR at a step (0-based): linear warmup, then constant, cosine, or warmup-stable-decay (linear decay at the end). */
export function learningRate(spec: ScheduleSpec, step: number): number {
  const warmup = spec.warmup ?? 0;
  if (step < warmup) return (spec.lr * (step + 1)) / warmup;
  if (spec.kind === 'constant') return spec.lr;
  const minLr = spec.lr * (spec.minRatio ?? 0.1);
  const total = Math.max(spec.total, warmup + 1);
  if (spec.kind === 'cosine') {
    const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return minLr + 0.5 * (spec.lr - minLr) * (1 + Math.cos(Math.PI * progress));
  }
  const decaySteps = Math.max(1, Math.round((total - warmup) * (spec.decayFraction ?? 0.2)));
  const decayStart = total - decaySteps;
  if (step < decayStart) return spec.lr;
  const progress = Math.min(1, (step - decayStart) / decaySteps);
  return spec.lr + (minLr - spec.lr) * progress;
}

/**
 * Warmup-stable-decay with warmup and decay as fractions of all `total` steps (the convention of the
 * published recipes: 2% warmup, 10% decay), decaying linearly to `minRatio` × `lr` (default 0).
 */
export function wsdSchedule(lr: number, total: number, warmupFraction: number, decayFraction: number, minRatio = 0): ScheduleSpec {
  const warmup = Math.min(Math.round(warmupFraction * total), Math.max(0, total - 1));
  // learningRate counts the decay as a fraction of the steps after warmup.
  const decaySteps = Math.max(1, Math.round(decayFraction * total));
  return { kind: 'wsd', lr, warmup, total, decayFraction: Math.min(1, decaySteps / Math.max(1, total - warmup)), minRatio };
}
