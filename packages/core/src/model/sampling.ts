/** Picking the next token from logits: greedy, or temperature sampling restricted by top-k and top-p. */
import { mismatch } from '../errors.js';

export interface SamplingOptions {
  /** 0 = greedy (the most likely token). */
  temperature: number;
  /** Sample among the k most likely tokens (0 = all). */
  topK: number;
  /** Nucleus sampling: the smallest set of most likely tokens whose probability reaches p (1 = all). */
  topP?: number;
}

export function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw mismatch('temperature', 'a finite number ≥ 0', String(o.temperature));
  if (!Number.isInteger(o.topK) || o.topK < 0) throw mismatch('top-k', 'an integer ≥ 0', String(o.topK));
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw mismatch('top-p', 'a number in (0, 1]', String(p));
}

function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/** The next token for uniform draw `u` in [0, 1). */
export function pickToken(logits: Float32Array, o: SamplingOptions, u: number): number {
  if (o.temperature <= 0) return argmax(logits);
  let candidates = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a] || a - b);
  if (o.topK > 0) candidates = candidates.slice(0, o.topK);
  const max = logits[candidates[0]];
  let weights = candidates.map((i) => Math.exp((logits[i] - max) / o.temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  const topP = o.topP ?? 1;
  if (topP < 1) {
    // Keep the most likely tokens until their probability reaches p (at least one).
    let cumulative = 0;
    let keep = 0;
    while (keep < weights.length && cumulative < topP * total) cumulative += weights[keep++];
    candidates = candidates.slice(0, Math.max(1, keep));
    weights = weights.slice(0, Math.max(1, keep));
  }
  let r = u * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < candidates.length; i++) {
    r -= weights[i];
    if (r < 0) return candidates[i];
  }
  return candidates[candidates.length - 1];
}
