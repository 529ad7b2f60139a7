import { mismatch } from './errors.js';
import { sizeClusters, type Point } from './points.js';

/**
 * Runs whose parameter count changes mid-way (progressive growth, MoE upcycling) are not one point on
 * the N axis. 'final' keeps each such run's records from its last size change on: the model it ends
 * as, after all the tokens it has seen (its tokens are counted from the start of the run, as the run
 * logged them). 'refuse' stops with an error naming the run instead.
 */
export type SizeChangePolicy = 'final' | 'refuse';
export const SIZE_CHANGE_POLICIES: readonly SizeChangePolicy[] = ['final', 'refuse'];

/** What 'final' did to one run. */
export interface SizeChange {
  model: string;
  /** The run's parameter counts in the order it had them (each change once). */
  sizes: number[];
  /** Tokens at the first record of the final size. */
  keptFromTokens: number;
  /** Records kept (at the final size) and dropped (at earlier sizes). */
  kept: number;
  dropped: number;
}

/** `run-a: 1.2e+5 → 4.8e+5 parameters; kept its 12 records from 5000 tokens on (dropped 8)` */
export function sizeChangeText(c: SizeChange): string {
  const sizes = c.sizes.map((n) => n.toPrecision(3)).join(' → ');
  return `${c.model}: ${sizes} parameters; kept its ${c.kept} records from ${c.keptFromTokens} tokens on (dropped ${c.dropped})`;
}

/**
 * Applies `policy` to every named run whose parameter count changes (sizes within SIZE_TOLERANCE are
 * one size, as elsewhere). Points without a model name are keyed by size and never change size.
 */
export function handleSizeChanges(points: readonly Point[], policy: SizeChangePolicy = 'final'): { points: Point[]; changes: SizeChange[] } {
  if (!SIZE_CHANGE_POLICIES.includes(policy)) throw mismatch('size-change policy', SIZE_CHANGE_POLICIES.join(' or '), String(policy));
  const clusters = sizeClusters(points.map((p) => p.params));
  const byModel = new Map<string, number[]>();
  points.forEach((p, i) => {
    if (p.model !== undefined) byModel.set(p.model, [...(byModel.get(p.model) ?? []), i]);
  });
  const dropped = new Set<number>();
  const changes: SizeChange[] = [];
  for (const [model, indices] of byModel) {
    // In training order: by tokens, ties kept in file order.
    const order = [...indices].sort((a, b) => points[a].tokens - points[b].tokens || a - b);
    const size = (i: number) => clusters.get(points[i].params)!;
    const sizes = order.map(size).filter((s, k, all) => k === 0 || s !== all[k - 1]);
    if (sizes.length === 1) continue;
    if (policy === 'refuse') {
      const grewAt = order.find((i, k) => k > 0 && size(i) !== size(order[k - 1]))!;
      throw mismatch(
        `model ${model}`,
        'one parameter count (use --size-changes final to fit on its records from the last size change on)',
        `${sizes.join(', then ')} (the size changes at ${points[grewAt].tokens} tokens, ${points[grewAt].where ?? 'a record'})`,
      );
    }
    const final = sizes[sizes.length - 1];
    let first = order.length - 1;
    while (first > 0 && size(order[first - 1]) === final) first--;
    order.slice(0, first).forEach((i) => dropped.add(i));
    changes.push({ model, sizes, keptFromTokens: points[order[first]].tokens, kept: order.length - first, dropped: first });
  }
  return { points: points.filter((_, i) => !dropped.has(i)), changes };
}
