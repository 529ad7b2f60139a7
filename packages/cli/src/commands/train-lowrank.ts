import { Option, type Command } from 'commander';
import { mismatch, UserError, type ModelConfig } from '@efficientscale/core';
import { lowrankConfig, selfGuidedBetweenSteps } from '@efficientscale/lowrank';
import { positiveInt, positiveNumber } from './options.js';

/** The flags `train` takes for a low-rank model trained from scratch. */
interface LowrankTrainFlags {
  ffn?: 'dense' | 'lowrank';
  rank?: number;
  fraction?: number;
  selfGuided?: number;
  guideStochastic?: boolean;
  keepFirstDense?: boolean;
  shareGateUpV?: boolean;
}

/** Adds `--ffn lowrank` and its options to the train command. */
export function addLowrankTrainOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ffn <kind>', 'FFN of the fresh model: dense, or lowrank (U·V factors; needs --rank or --fraction)').choices(['dense', 'lowrank']))
    .option('--rank <r>', 'with --ffn lowrank: one rank for every FFN weight', positiveInt)
    .option('--fraction <f>', 'with --ffn lowrank: keep this fraction of each FFN\'s parameters (0.32 → rank ≈ width/4)', positiveNumber)
    .option('--self-guided <f>', 'with --ffn lowrank: train α·Wx + (1−α)·U(Vx), α cosine 1 → 0 over this fraction of the steps, then drop W', positiveNumber)
    .option('--guide-stochastic', 'with --self-guided: each step runs one branch, the dense one with probability α')
    .option('--no-keep-first-dense', 'with --ffn lowrank: factorise layer 0\'s FFN too (kept dense by default)')
    .option('--share-gate-up-v', 'with --ffn lowrank: gate_proj and up_proj share one V');
}

/** The fresh model's config: as given for a dense FFN, or the lowrank kind in every layer (but the first). */
export function lowrankTrainConfig(flagsIn: object, config: ModelConfig): ModelConfig {
  const flags = flagsIn as LowrankTrainFlags;
  const lowrankOnly = { '--rank': flags.rank, '--fraction': flags.fraction, '--self-guided': flags.selfGuided, '--guide-stochastic': flags.guideStochastic, '--share-gate-up-v': flags.shareGateUpV };
  if (flags.ffn !== 'lowrank') {
    const stray = Object.entries(lowrankOnly).find(([, v]) => v !== undefined)?.[0] ?? (flags.keepFirstDense === false ? '--no-keep-first-dense' : undefined);
    if (stray) throw new UserError(`${stray}: expected --ffn lowrank beside it, found ${flags.ffn ? `--ffn ${flags.ffn}` : 'no --ffn'}`);
    return config;
  }
  const given = [flags.rank, flags.fraction].filter((x) => x !== undefined).length;
  if (given !== 1) throw new UserError(`--ffn lowrank: expected exactly one of --rank, --fraction, found ${given}`);
  if (flags.fraction !== undefined && flags.fraction > 1) throw mismatch('--fraction', 'a number in (0, 1]', String(flags.fraction));
  if (flags.selfGuided !== undefined && flags.selfGuided > 1) throw mismatch('--self-guided', 'a fraction of the steps in (0, 1]', String(flags.selfGuided));
  if (flags.guideStochastic && flags.selfGuided === undefined) throw new UserError('--guide-stochastic: expected --self-guided f beside it, found none');
  const guided = flags.selfGuided !== undefined ? { self_guided: true, guide_fraction: flags.selfGuided, ...(flags.guideStochastic ? { guide_stochastic: true } : {}) } : {};
  return lowrankConfig(config, {
    rank: flags.rank,
    fraction: flags.fraction,
    share_gate_up_v: flags.shareGateUpV,
    keepFirstDense: flags.keepFirstDense !== false,
    ...guided,
  });
}

/** Anneals self-guided training between steps (a no-op for other models); passed to startRun and continueRun. */
export const lowrankBetweenSteps = selfGuidedBetweenSteps;
