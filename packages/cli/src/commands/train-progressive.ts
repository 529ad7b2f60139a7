import { Option, type Command } from 'commander';
import { countParams, UserError, type ModelConfig, type RunSpec, type StartOptions, type TrainerOptions } from '@efficientscale/core';
import { growStage, planProgressive, progressiveMethods, type ProgressiveMethod } from '@efficientscale/progressive';
import { nonNegativeInt, numberList } from './options.js';

/** The flags `train` takes for a progressive (zero/one-layer) run. */
interface ProgressiveTrainFlags {
  progressive?: boolean;
  fromLayers?: number;
  growAt?: number[];
  layers?: number[];
  growMethod?: ProgressiveMethod;
  depthLrScale?: boolean;
  schedule?: string;
  json?: boolean;
}

/** Adds `--progressive` and its options to the train command. */
export function addProgressiveTrainOptions(cmd: Command): Command {
  return cmd
    .option('--progressive', 'progressive training: start shallow (--from-layers), grow to the target depth at --grow-at (default schedule wsd)')
    .option('--from-layers <n>', 'with --progressive: start depth, 0 (embeddings, norm, head) or 1 (default)', nonNegativeInt)
    .option('--grow-at <fractions>', 'with --progressive: fractions of the steps after which to grow, e.g. 0.8 (default) or 0.5,0.8', numberList('--grow-at', (x) => x > 0 && x < 1))
    .option('--layers <depths>', 'with --progressive: depth after each growth, e.g. 6,12, optionally the start depth first (2,6,12); default the model\'s depth', numberList('--layers', (x) => Number.isSafeInteger(x) && x >= 0))
    .addOption(new Option('--grow-method <m>', 'with --progressive: new blocks start zero (output projections 0: exact), copy (of a neighbour, exact) or random').choices([...progressiveMethods]))
    .option('--depth-lr-scale', 'with --progressive: train the new blocks at LR × max(1, depth before) / depth after until the next growth');
}

/** --progressive runs default to warmup-stable-decay, so growth falls in the stable phase. */
export function progressiveScheduleDefault(flagsIn: object, trainer: TrainerOptions): void {
  const flags = flagsIn as ProgressiveTrainFlags;
  if (!flags.progressive) {
    const stray = (['fromLayers', 'growAt', 'layers', 'growMethod', 'depthLrScale'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new UserError(`--${stray.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: expected --progressive beside it, found none`);
    return;
  }
  if (flags.schedule === undefined) trainer.schedule = { ...trainer.schedule, kind: 'wsd' } as TrainerOptions['schedule'];
}

/**
 * The model a run starts with, its growth schedule, and the parameters of the model it ends as (the
 * config unchanged without --progressive).
 */
export function progressiveStart(flagsIn: object, config: ModelConfig, spec: RunSpec): { config: ModelConfig; growth?: StartOptions['growth']; finalParams: number } {
  const flags = flagsIn as ProgressiveTrainFlags;
  if (!flags.progressive) return { config, finalParams: countParams(config) };
  const plan = planProgressive(config, { fromLayers: flags.fromLayers, growAt: flags.growAt, layers: flags.layers, method: flags.growMethod, seed: spec.trainer.seed, depthLrScale: flags.depthLrScale }, spec.totalSteps, spec.trainer.schedule);
  if (!flags.json) {
    const stages = plan.schedule.map((s) => `→ ${s.stage.layers} at step ${s.step}`).join(' ');
    process.stderr.write(`progressive: ${plan.fromLayers} layers ${stages} (${plan.schedule[0].stage.depthMethod}, ${spec.trainer.schedule.kind} schedule)\n`);
  }
  const finalParams = countParams({ ...config, num_hidden_layers: plan.schedule.at(-1)!.stage.layers as number });
  return { config: plan.config, growth: { schedule: plan.schedule, grow: growStage }, finalParams };
}

/** Applies a stored growth stage when a progressive run resumes (runs without a schedule never call it). */
export const progressiveGrow = growStage;
