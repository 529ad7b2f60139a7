/**
 * Time estimates for the dry run: tokens/s of each distinct architecture measured by a few real
 * training steps (synthetic tokens, the plan's batch shape) on the selected backend.
 */
import { Trainer, type ModelConfig } from '@efficientscale/core';
import type { Plan } from './plan.js';

export const ESTIMATE_WARMUP = 1;
export const ESTIMATE_STEPS = 2;

function syntheticTokens(n: number, vocab: number): Int32Array {
  const ids = new Int32Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    ids[i] = x % vocab;
  }
  return ids;
}

/** Mean seconds of one training step of `config` over ESTIMATE_STEPS steps after ESTIMATE_WARMUP (each read, as training reads them). */
export async function measureStepSeconds(plan: Plan, config: ModelConfig): Promise<number> {
  const tokensPerStep = plan.batch * plan.seq;
  const ids = syntheticTokens(Math.max(tokensPerStep * 4, 4096) + 1, Math.min(config.vocab_size, 256));
  const trainer = Trainer.fresh(config, ids, ids.subarray(0, tokensPerStep + 1), {
    batchSize: plan.batch,
    seqLen: plan.seq,
    accumulation: plan.accumulation,
    seed: plan.seed,
    evalBatches: 1,
    clipNorm: 1,
    schedule: { kind: 'constant', lr: 1e-4 },
    adamw: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.01 },
  });
  try {
    for (let i = 0; i < ESTIMATE_WARMUP; i++) await trainer.stepAsync();
    const t0 = performance.now();
    for (let i = 0; i < ESTIMATE_STEPS; i++) await trainer.stepAsync();
    return (performance.now() - t0) / 1000 / ESTIMATE_STEPS;
  } finally {
    trainer.dispose();
  }
}
