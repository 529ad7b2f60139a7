import type { Point } from '../points.js';
import { mulberry32, normal } from '../random.js';

/** Points from L = E + A/N^α + B/D^β with multiplicative log-normal noise of scale `noise`. */
export function chinchillaPoints(
  law: { A: number; B: number; E: number; alpha: number; beta: number },
  sizes: readonly number[],
  tokensPerSize: readonly number[],
  noise: number,
  seed: number,
): Point[] {
  const rand = mulberry32(seed);
  return sizes.flatMap((N, i) =>
    tokensPerSize.map((ratio) => {
      const D = N * ratio;
      const L = law.E + law.A / N ** law.alpha + law.B / D ** law.beta;
      return { params: N, tokens: D, loss: L * Math.exp(noise * normal(rand)), model: `m${i}` };
    }),
  );
}

/**
 * One training run as its metrics.jsonl would log it: `steps` evenly spaced checkpoints up to
 * `maxTokens`, losses from the law with log-normal noise of scale `noise`, named `model`.
 */
export function trainingRun(
  law: { A: number; B: number; E: number; alpha: number; beta: number },
  model: string,
  params: number,
  maxTokens: number,
  steps: number,
  noise: number,
  seed: number,
): Point[] {
  const rand = mulberry32(seed);
  return Array.from({ length: steps }, (_, i) => {
    const tokens = (maxTokens * (i + 1)) / steps;
    const L = law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta;
    return { params, tokens, loss: L * Math.exp(noise * normal(rand)), model };
  });
}

/** A family of runs of the given sizes, each trained on `tokensPerParam` tokens per parameter. */
export function runFamily(
  law: { A: number; B: number; E: number; alpha: number; beta: number },
  sizes: readonly number[],
  tokensPerParam: number,
  steps: number,
  noise: number,
  seed: number,
): Point[] {
  return sizes.flatMap((N, i) => trainingRun(law, `run-${N}`, N, N * tokensPerParam, steps, noise, seed + i));
}
