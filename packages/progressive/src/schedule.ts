import { layerPrefix, learningRate, mismatch, type ModelConfig, type ScheduleSpec } from '@efficientscale/core';
import type { StartOptions } from '@efficientscale/core/node';
import { growModel, type GrowModelResult, type GrowOptions } from './checkpoint.js';

/**
 * The methods a progressive run grows depth with. `copy` (the default from 1 layer): every new layer is a
 * copy of an old one, all old layers copied evenly, output projections kept, so the function changes and
 * the loss spikes, then catches up (Bu 2025; not from 0 layers). `random` (the default from 0 layers):
 * fresh blocks, output projections at std 0.02 / √(2 × depth after). `zero`: fresh blocks with zero output
 * projections, exact but slow to learn (the paper rejects it).
 */
export const progressiveMethods = ['zero', 'copy', 'random'] as const;
export type ProgressiveMethod = (typeof progressiveMethods)[number];

export interface ProgressivePlanOptions {
  /** Depth training starts at (0: embeddings, final norm and head only). Default: layers[0] when `layers` has one entry more than `growAt`, else 1. */
  fromLayers?: number;
  /** Fractions of the step budget after which to grow, increasing, in (0, 1). Default [0.8]. */
  growAt?: number[];
  /** Depth after each growth (optionally preceded by the start depth). Default: the target config's depth, for one growth. */
  layers?: number[];
  /** How new blocks start (default copy, or random from 0 layers). */
  method?: ProgressiveMethod;
  seed?: number;
  /** Train each growth's new blocks at LR × max(1, depth before) / depth after (depth-aware, muP-style), until the next growth. */
  depthLrScale?: boolean;
}

type CoreGrowth = NonNullable<StartOptions['growth']>;

export interface ProgressivePlan {
  /** The shallow model training starts with (the target config at `fromLayers` depth). */
  config: ModelConfig;
  fromLayers: number;
  /** Step (0-based: after that many steps) and grow options of each growth. */
  schedule: Array<{ step: number; stage: GrowOptions & Record<string, unknown> }>;
}

const list = (xs: number[]) => xs.join(',');

/**
 * Plans a progressive run to the target config's architecture: start depth, growth steps and depths.
 * Every growth must fall in a stable LR phase (after warmup, before a wsd decay; cosine has none), so
 * the grown blocks train at the peak LR and the decay anneals the final model.
 */
export function planProgressive(target: ModelConfig, o: ProgressivePlanOptions, totalSteps: number, schedule: ScheduleSpec): ProgressivePlan {
  const growAt = o.growAt ?? [0.8];
  if (o.method !== undefined && !(progressiveMethods as readonly string[]).includes(o.method)) throw mismatch('--grow-method', progressiveMethods.join(' | '), JSON.stringify(o.method));
  growAt.forEach((at, i) => {
    if (!(at > 0 && at < 1) || (i > 0 && at <= growAt[i - 1])) throw mismatch('--grow-at', 'increasing fractions of the step budget in (0, 1)', list(growAt));
  });
  let fromLayers = o.fromLayers ?? 1;
  let depths: number[];
  if (o.layers === undefined) {
    if (growAt.length > 1) throw mismatch('--layers', `the depth after each of the ${growAt.length} growths (a multi-stage --grow-at)`, 'nothing');
    depths = [target.num_hidden_layers];
  } else if (o.layers.length === growAt.length + 1) {
    if (o.fromLayers !== undefined && o.fromLayers !== o.layers[0]) throw mismatch('--layers', `a first depth equal to --from-layers (${o.fromLayers})`, list(o.layers));
    fromLayers = o.layers[0];
    depths = o.layers.slice(1);
  } else if (o.layers.length === growAt.length) depths = o.layers;
  else throw mismatch('--layers', `${growAt.length} or ${growAt.length + 1} depths (one per --grow-at, optionally the start depth first)`, `${o.layers.length} (${list(o.layers)})`);
  [fromLayers, ...depths].forEach((d, i, all) => {
    if (!Number.isSafeInteger(d) || d < 0 || (i > 0 && d <= all[i - 1])) throw mismatch('progressive depths (--from-layers, then --layers)', 'increasing non-negative integers', list(all));
  });
  const method = o.method ?? (fromLayers === 0 ? 'random' : 'copy');
  if (fromLayers === 0 && method === 'copy') throw mismatch('--grow-method from 0 layers', 'zero or random (there is no layer to copy)', 'copy');
  if (target.efficientscale?.ffn_kinds) throw mismatch('progressive target config', 'dense FFNs only (no "efficientscale.ffn_kinds")', JSON.stringify(target.efficientscale.ffn_kinds));

  const steps = growAt.map((at) => Math.round(at * totalSteps));
  steps.forEach((step, i) => {
    if (step < 1 || step >= totalSteps || (i > 0 && step <= steps[i - 1])) {
      throw mismatch(`--grow-at ${list(growAt)} of ${totalSteps} steps`, 'distinct growth steps between the first and the last step', `steps ${list(steps)}`);
    }
  });
  checkStablePhase(schedule, steps, growAt);
  return {
    config: { ...target, num_hidden_layers: fromLayers },
    fromLayers,
    schedule: steps.map((step, i) => ({
      step,
      stage: { layers: depths[i], depthMethod: method, ...(method === 'copy' ? { depthExact: false } : {}), seed: (o.seed ?? 0) + i, ...(o.depthLrScale ? { depthLrScale: true } : {}) },
    })),
  };
}

/** Refuses growth in warmup or in a decay: the LR at each growth step must be the schedule's peak. */
function checkStablePhase(schedule: ScheduleSpec, steps: number[], growAt: number[]): void {
  if (schedule.kind === 'cosine') throw mismatch('--schedule with --progressive', 'wsd or constant (growth needs a stable LR phase; cosine decays all along)', 'cosine');
  steps.forEach((step, i) => {
    if (learningRate(schedule, step) !== schedule.lr || learningRate(schedule, Math.max(0, step - 1)) !== schedule.lr) {
      const where = step < (schedule.warmup ?? 0) ? 'in the warmup' : 'in the decay';
      throw mismatch(`--grow-at ${growAt[i]} (step ${step})`, 'a growth in the stable phase of the LR schedule (after warmup, before the decay)', `a step ${where}`);
    }
  });
}

/**
 * Core's grow hook for progressive runs: applies one planned stage with growModel (moments follow); with
 * `depthLrScale`, the new blocks' weights get LR multiplier max(1, depth before) / depth after.
 */
export const growStage: CoreGrowth['grow'] = (config, params, optimizerState, stage) => {
  const grown = growModel(config, params, stage as GrowOptions, optimizerState);
  const lrScale = stage.depthLrScale === true ? newBlockLrScale(grown) : {};
  return { config: grown.config, params: grown.params, optimizer: grown.optimizer, lrScale };
};

/** LR multipliers for the blocks a depth growth added: max(1, depth before) / depth after (none without depth growth). */
export function newBlockLrScale(grown: Pick<GrowModelResult, 'params' | 'report'>): Record<string, number> {
  const depth = grown.report.depth;
  const lrScale: Record<string, number> = {};
  if (!depth) return lrScale;
  const scale = Math.max(1, depth.layersBefore) / depth.layersAfter;
  for (const { index } of depth.newLayers) {
    for (const name of Object.keys(grown.params)) if (name.startsWith(layerPrefix(index))) lrScale[name] = scale;
  }
  return lrScale;
}
