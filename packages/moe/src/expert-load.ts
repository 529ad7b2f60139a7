import type { FfnMetrics } from '@efficientscale/core';

/** The metric name the moe FFN kind reports under: each expert's share of the layer's routed assignments. */
export const expertLoadMetric = 'expert_load';
/** With a capacity factor: the fraction of the layer's assignments over capacity, dropped. */
export const droppedMetric = 'dropped_fraction';

/**
 * Each expert's share of the token→expert assignments of one forward pass (tokens · k of them), so the
 * shares sum to 1 and perfectly even routing gives 1/E each.
 */
export function expertLoad(selected: Int32Array, experts: number): number[] {
  const counts = new Array<number>(experts).fill(0);
  for (const e of selected) counts[e] += 1;
  return counts.map((c) => (selected.length > 0 ? c / selected.length : 0));
}

export interface LayerLoad {
  layer: number;
  /** Share of the busiest and the idlest expert. */
  max: number;
  min: number;
  experts: number;
}

/** Busiest and idlest expert of each MoE layer, from a step's (or an eval's) FFN metrics. */
export function summarizeExpertLoad(metrics: FfnMetrics | undefined): LayerLoad[] {
  const layers = metrics?.[expertLoadMetric] ?? {};
  return Object.entries(layers)
    .map(([layer, shares]) => ({ layer: Number(layer), max: Math.max(...shares), min: Math.min(...shares), experts: shares.length }))
    .sort((a, b) => a.layer - b.layer);
}

/** One short text for a progress line: max/min share over all MoE layers, e.g. `experts max 31% min 2%`. */
export function formatExpertLoad(metrics: FfnMetrics | undefined): string {
  const layers = summarizeExpertLoad(metrics);
  if (layers.length === 0) return '';
  const pct = (x: number) => `${Math.round(100 * x)}%`;
  return `experts max ${pct(Math.max(...layers.map((l) => l.max)))} min ${pct(Math.min(...layers.map((l) => l.min)))}`;
}

/**
 * Watches the per-step expert loads of a run and says, once, when some expert got no tokens for
 * `patience` consecutive steps (a dead expert: its weights stop learning, the layer loses capacity).
 */
export class DeadExpertWatch {
  private readonly idle = new Map<string, number>();
  private warned = false;

  constructor(readonly patience = 50) {}

  /** Feed one step's metrics; returns the warning line the first time, else undefined. */
  observe(step: number, metrics: FfnMetrics | undefined): string | undefined {
    const dead: string[] = [];
    for (const [layer, shares] of Object.entries(metrics?.[expertLoadMetric] ?? {})) {
      shares.forEach((share, e) => {
        const key = `layer ${layer} expert ${e}`;
        const n = share > 0 ? 0 : (this.idle.get(key) ?? 0) + 1;
        this.idle.set(key, n);
        if (n >= this.patience) dead.push(key);
      });
    }
    if (this.warned || dead.length === 0) return undefined;
    this.warned = true;
    return (
      `warning: ${dead.join(', ')} received no tokens for ${this.patience} consecutive steps (at step ${step}); ` +
      'a higher router_aux_loss_coef or a router z-loss may revive it'
    );
  }
}
