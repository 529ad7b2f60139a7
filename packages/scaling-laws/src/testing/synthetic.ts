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
