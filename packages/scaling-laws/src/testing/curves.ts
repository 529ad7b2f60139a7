import { curveFeatures, curveTheta, getCurveLaw, type CurveLawName } from '../curve-laws.js';
import type { CurveRun } from '../curve-run.js';
import { mulberry32, normal } from '../random.js';

/** A schedule kind for tests: the shapes the laws are meant for, with a linear warmup. */
export type TestSchedule =
  | { kind: 'constant' }
  | { kind: 'cosine'; minRatio: number }
  | { kind: 'wsd'; decayFraction: number; minRatio: number }
  | { kind: 'step'; at: number; ratio: number };

/** LR of every step: `warmup` linear steps to `peak`, then the schedule's shape over `steps` in all. */
export function testSchedule(s: TestSchedule, steps: number, peak: number, warmup: number): Float64Array {
  return Float64Array.from({ length: steps }, (_, i) => {
    if (i < warmup) return (peak * (i + 1)) / warmup;
    const t = (i - warmup) / Math.max(1, steps - 1 - warmup);
    switch (s.kind) {
      case 'constant':
        return peak;
      case 'cosine':
        return Math.max(0, peak * (s.minRatio + 0.5 * (1 - s.minRatio) * (1 + Math.cos(Math.PI * t))));
      case 'wsd': {
        const start = 1 - s.decayFraction;
        return t < start ? peak : Math.max(0, peak * (1 + (s.minRatio - 1) * ((t - start) / s.decayFraction)));
      }
      case 'step':
        return t < s.at ? peak : peak * s.ratio;
    }
  });
}

/** A run whose losses are a law's curve at `evals` evenly spaced steps, with log-normal noise of scale `noise`. */
export function syntheticRun(
  law: CurveLawName,
  params: Record<string, number>,
  lr: Float64Array,
  options: { name: string; evals: number; noise?: number; seed?: number; size?: number },
): CurveRun {
  const form = getCurveLaw(law);
  const joint = 'E' in params;
  const steps = [...new Set(Array.from({ length: options.evals }, (_, i) => Math.round(((i + 1) * lr.length) / options.evals)))];
  const f = curveFeatures(lr, steps.map((s) => s - 1), options.size, Infinity);
  const out = new Float64Array(steps.length);
  form.predict(curveTheta(form, joint, params), f, joint, out);
  const rand = mulberry32(options.seed ?? 0);
  const noise = options.noise ?? 0;
  return {
    name: options.name,
    ...(options.size !== undefined ? { params: options.size } : {}),
    lr,
    steps,
    losses: Array.from(out, (v) => v * Math.exp(noise * normal(rand))),
  };
}

/** A metrics.jsonl text for a run: one record per step with step, tokens, params, lr and, where measured, eval_loss. */
export function metricsText(run: CurveRun, tokensPerStep = 1024): string {
  const losses = new Map(run.steps.map((s, j) => [s, run.losses[j]]));
  return Array.from(run.lr, (lr, i) => {
    const step = i + 1;
    const loss = losses.get(step);
    return JSON.stringify({ step, tokens: step * tokensPerStep, params: run.params, loss: 3, lr, ...(loss !== undefined ? { eval_loss: loss } : {}) });
  }).join('\n');
}
