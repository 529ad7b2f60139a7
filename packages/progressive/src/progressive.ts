import { mismatch, Trainer, type ModelConfig, type StepMetrics, type TrainerOptions } from '@efficientscale/core';
import { growModel, type GrowModelResult, type GrowOptions } from './checkpoint.js';
import { newBlockLrScale } from './schedule.js';

export interface GrowthStage {
  /** Fraction of the step (= token) budget after which to grow, in (0, 1). */
  at: number;
  grow: GrowOptions;
  /** Train the new blocks at LR × max(1, depth before) / depth after until the next growth (see newBlockLrScale). */
  depthLrScale?: boolean;
}

export interface ProgressiveOptions {
  /** The small model to start from (fresh weights from trainer.seed). */
  config: ModelConfig;
  trainIds: Int32Array;
  valIds: Int32Array;
  trainer: TrainerOptions;
  totalSteps: number;
  stages: GrowthStage[];
  /** Evaluate on valIds every this many steps (and after the last step); 0 or absent: only at the end. */
  evalEvery?: number;
  onStep?: (m: StepMetrics & { params: number }) => void;
}

export interface ProgressiveResult {
  config: ModelConfig;
  /** One entry per step, with the parameter count of the model that ran it. */
  history: Array<StepMetrics & { params: number }>;
  growths: Array<{ step: number; report: GrowModelResult['report'] }>;
  /** The eval curve (with evalEvery): held-out loss after `step` steps, `flops` and `tokens` spent by then. */
  evals: Array<{ step: number; flops: number; tokens: number; evalLoss: number }>;
  evalLoss: number;
  flops: number;
  tokens: number;
}

const paramCount = (t: Trainer) => Object.values(t.params).reduce((n, v) => n + v.size, 0);

/**
 * Trains a small model and grows it at given fractions of the step budget. Each growth carries the
 * Adam moments over (Trainer.transformModel) and keeps the step, so the LR schedule continues; the
 * Trainer counts FLOPs of the model as it is at each step. Steps and evaluations are read
 * asynchronously, so any backend trains it (a GPU one included).
 */
export async function trainProgressive(o: ProgressiveOptions): Promise<ProgressiveResult> {
  const stages = [...o.stages].sort((a, b) => a.at - b.at);
  for (const s of stages) if (!(s.at > 0 && s.at < 1)) throw mismatch('growth stage "at"', 'a fraction of the budget in (0, 1)', String(s.at));
  const growAt = stages.map((s) => Math.round(s.at * o.totalSteps));
  const trainer = Trainer.fresh(o.config, o.trainIds, o.valIds, o.trainer);
  const history: ProgressiveResult['history'] = [];
  const growths: ProgressiveResult['growths'] = [];
  const evals: ProgressiveResult['evals'] = [];
  try {
    let params = paramCount(trainer);
    for (let step = 0; step < o.totalSteps; step++) {
      for (let k = 0; k < stages.length; k++) {
        if (growAt[k] !== step) continue;
        const grown = await trainer.transformModel((config, params, moments) => growModel(config, params, stages[k].grow, moments));
        if (stages[k].depthLrScale) trainer.lrScale = newBlockLrScale(grown);
        growths.push({ step, report: grown.report });
        params = paramCount(trainer);
      }
      const m = { ...(await trainer.stepAsync()), params };
      history.push(m);
      o.onStep?.(m);
      if (o.evalEvery && (m.step % o.evalEvery === 0 || m.step === o.totalSteps)) evals.push({ step: m.step, flops: m.flops, tokens: m.tokens, evalLoss: await trainer.evaluateAsync() });
    }
    const evalLoss = evals.at(-1)?.step === o.totalSteps ? evals.at(-1)!.evalLoss : await trainer.evaluateAsync();
    return { config: trainer.config, history, growths, evals, evalLoss, flops: trainer.state.flops, tokens: trainer.state.tokens };
  } finally {
    trainer.dispose();
  }
}
