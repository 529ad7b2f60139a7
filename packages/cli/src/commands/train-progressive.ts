import { Option, type Command } from 'commander';
import { countParams, splitTrainVal, UserError, wsdSchedule, type ModelConfig, type RunSpec, type StartOptions, type Tokenizer, type TrainerOptions } from '@efficientscale/core/node';
import { growStage, planProgressive, progressiveMethods, runPilot, type PilotResult, type ProgressiveMethod } from '@efficientscale/progressive';
import { nonNegativeInt, numberList, positiveInt } from './options.js';

/** The flags `train` takes for a progressive (zero/one-layer) run. */
interface ProgressiveTrainFlags {
  progressive?: boolean;
  fromLayers?: number;
  growAt?: number[];
  layers?: number[];
  growMethod?: ProgressiveMethod;
  depthLrScale?: boolean;
  pilot?: boolean;
  pilotSteps?: number;
  schedule?: string;
  decay?: number;
  json?: boolean;
}

/** The published recipe's warmup (Bu 2025): 2% of the steps; its decay is --decay's progressive default. */
const RECIPE_WARMUP = 0.02;
const RECIPE_DECAY = 0.1;

const fraction = (flag: string) => (value: string) => {
  const x = Number(value);
  if (!(x > 0 && x < 1)) throw new UserError(`${flag}: expected a fraction in (0, 1), found "${value}"`);
  return x;
};

/** Adds `--progressive` and its options (and `--decay`, which any wsd run takes) to the train command. */
export function addProgressiveTrainOptions(cmd: Command): Command {
  return cmd
    .option('--progressive', 'progressive training (Bu 2025): start shallow (--from-layers), grow once to the target depth at --grow-at, wsd schedule (warmup 2%, decay 10% to 0), no re-warmup')
    .option('--from-layers <n>', 'with --progressive: start depth, 0 (embeddings, norm, head) or 1 (default)', nonNegativeInt)
    .option('--grow-at <fractions>', 'with --progressive: fractions of the steps after which to grow, e.g. 0.8 (default) or 0.5,0.8', numberList('--grow-at', (x) => x > 0 && x < 1, 'fractions in (0, 1)'))
    .option('--layers <depths>', 'with --progressive: depth after each growth, e.g. 6,12, optionally the start depth first (2,6,12); default the model\'s depth', numberList('--layers', (x) => Number.isSafeInteger(x) && x >= 0, 'non-negative integers'))
    .addOption(new Option('--grow-method <m>', 'with --progressive: new layers copy the old ones, all copied evenly, outputs kept (copy, the default), fresh with depth-scaled outputs (random, the default from 0 layers) or fresh with zero outputs (zero: exact, learns slowly)').choices([...progressiveMethods]))
    .option('--depth-lr-scale', 'with --progressive: train the new blocks at LR × max(1, depth before) / depth after until the next growth')
    .option('--pilot', 'with --progressive: first measure the catch-up time after growth on a short pilot (fixed-size run vs a run grown after warmup) and grow so that it ends before the decay')
    .option('--pilot-steps <n>', 'with --pilot: the pilot\'s length (default a quarter of --steps)', positiveInt)
    .option('--decay <fraction>', 'wsd: the final linear decay\'s share of all steps (default 0.2; 0.1 with --progressive)', fraction('--decay'));
}

/** --progressive runs default to warmup-stable-decay, so growth falls in the stable phase; stray flags are refused. */
export function progressiveScheduleDefault(flagsIn: object, trainer: TrainerOptions): void {
  const flags = flagsIn as ProgressiveTrainFlags;
  if (!flags.progressive) {
    const stray = (['fromLayers', 'growAt', 'layers', 'growMethod', 'depthLrScale', 'pilot', 'pilotSteps'] as const).find((k) => flags[k] !== undefined);
    if (stray) throw new UserError(`--${stray.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: expected --progressive beside it, found none`);
  }
  if (flags.pilotSteps !== undefined && !flags.pilot) throw new UserError('--pilot-steps: expected --pilot beside it, found none');
  if (flags.progressive && flags.schedule === undefined) trainer.schedule = { ...trainer.schedule, kind: 'wsd' } as TrainerOptions['schedule'];
  if (flags.decay !== undefined && trainer.schedule.kind !== 'wsd') throw new UserError(`--decay: expected --schedule wsd (or --progressive) beside it, found --schedule ${trainer.schedule.kind}`);
}

/**
 * Once the step count is known: a progressive wsd run follows the published recipe (warmup 2% of the
 * steps, linear decay over the last 10% to 0); --decay sets any wsd run's decay as a share of all steps.
 */
export function progressiveScheduleSteps(flagsIn: object, trainer: TrainerOptions, totalSteps: number): void {
  const flags = flagsIn as ProgressiveTrainFlags;
  const s = trainer.schedule;
  if (s.kind !== 'wsd') return;
  if (flags.progressive) trainer.schedule = wsdSchedule(s.lr, totalSteps, RECIPE_WARMUP, flags.decay ?? RECIPE_DECAY);
  else if (flags.decay !== undefined) trainer.schedule = { ...s, decayFraction: Math.min(1, Math.max(1, Math.round(flags.decay * totalSteps)) / Math.max(1, totalSteps - s.warmup)) };
}

/**
 * The model a run starts with, its growth schedule, the parameters of the model it ends as (the config
 * unchanged without --progressive) and, with --pilot, what the pilot measured.
 */
export async function progressiveStart(flagsIn: object, config: ModelConfig, spec: RunSpec, data: { text: string; tokenizer: Tokenizer }): Promise<{ config: ModelConfig; growth?: StartOptions['growth']; finalParams: number; pilot?: PilotResult }> {
  const flags = flagsIn as ProgressiveTrainFlags;
  if (!flags.progressive) return { config, finalParams: countParams(config) };
  const options = { fromLayers: flags.fromLayers, growAt: flags.growAt, layers: flags.layers, method: flags.growMethod, seed: spec.trainer.seed, depthLrScale: flags.depthLrScale };
  const say = (line: string) => (flags.json ? undefined : process.stderr.write(`${line}\n`));
  let pilot: PilotResult | undefined;
  if (flags.pilot) {
    if (flags.growAt && flags.growAt.length > 1) throw new UserError('--pilot: expected one growth (the published recipe), found --grow-at with several');
    const { train, val } = splitTrainVal(data.tokenizer.encode(data.text), spec.valFraction);
    const steps = flags.pilotSteps ?? Math.max(20, Math.round(spec.totalSteps / 4));
    say(`pilot: ${steps} steps of the target from scratch and of the start grown after warmup, to measure the catch-up time`);
    let last = 0;
    pilot = await runPilot({
      target: config,
      progressive: options,
      trainIds: train,
      valIds: val,
      trainer: spec.trainer,
      totalSteps: spec.totalSteps,
      steps,
      onStep: (run, step) => {
        if (step === steps || performance.now() - last > 5000) {
          last = performance.now();
          say(`pilot: ${run} run, step ${step}/${steps}`);
        }
      },
    });
    say(`pilot: ${pilot.note}`);
    if (pilot.growAt !== undefined) options.growAt = [pilot.growAt];
  }
  const plan = planProgressive(config, options, spec.totalSteps, spec.trainer.schedule);
  const stages = plan.schedule.map((s) => `→ ${s.stage.layers} at step ${s.step}`).join(' ');
  say(`progressive: ${plan.fromLayers} layers ${stages} (${plan.schedule[0].stage.depthMethod}, ${spec.trainer.schedule.kind} schedule)`);
  const finalParams = countParams({ ...config, num_hidden_layers: plan.schedule.at(-1)!.stage.layers as number });
  return { config: plan.config, growth: { schedule: plan.schedule, grow: growStage }, finalParams, pilot };
}

/** Applies a stored growth stage when a progressive run resumes (runs without a schedule never call it). */
export const progressiveGrow = growStage;
