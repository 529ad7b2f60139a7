import { mismatch } from './errors.js';
import { modelKeys, type Point } from './points.js';

/**
 * Drops each run's checkpoints in the first `fraction` of its tokens (a run: points of one model
 * name, or of one size when unnamed). A run's first steps are dominated by initialisation and
 * warm-up, not by the law; the Hitchhiker's Guide drops them before fitting.
 */
export function dropEarlyCheckpoints(points: readonly Point[], fraction: number): Point[] {
  if (!(fraction >= 0 && fraction < 1)) throw mismatch('early fraction', 'a fraction in [0, 1)', String(fraction));
  if (fraction === 0) return [...points];
  const keys = modelKeys(points);
  const maxTokens = new Map<string, number>();
  points.forEach((p, i) => maxTokens.set(keys[i], Math.max(maxTokens.get(keys[i]) ?? 0, p.tokens)));
  return points.filter((p, i) => p.tokens > fraction * maxTokens.get(keys[i])!);
}
