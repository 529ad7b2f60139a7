import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CURVE_LAW_NAMES, isCurveLawFile, mismatch, parseCurveLawFile, parseLawFile, predictLoss } from '@efficientscale/scaling-laws';
import { unreadableFile } from '@efficientscale/scaling-laws/node';
import { estimateText, fmt } from './fit.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from './numbers.js';
import { addForceOption, checkOutputFiles, type ForceFlag } from './outputs.js';
import { predictAlongSchedule, predictFromRun, type CurvePredictFlags } from './predict-curve.js';

function lawText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw mismatch(`--law ${path}`, 'a readable law file', unreadableFile(err));
  }
}

/** Reads a point law file (chinchilla, params, compute, repetition) written by `efficientscale fit --out`. */
export function readLawFile(path: string) {
  return parseLawFile(lawText(path), path);
}

/** Reads any law file `fit --out` writes: a point law or a whole-curve law, told apart by its `law`. */
export function readAnyLawFile(path: string) {
  const text = lawText(path);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined; // the parser below says what is wrong
  }
  if (isCurveLawFile(raw)) return { kind: 'curve' as const, ...parseCurveLawFile(text, path) };
  return { kind: 'point' as const, ...parseLawFile(text, path) };
}

interface PredictFlags extends CurvePredictFlags, ForceFlag {
  tokens?: number;
  uniqueTokens?: number;
}

export function registerPredict(program: Command): void {
  addForceOption(program.command('predict'))
    .description(
      'predicted loss: of N parameters trained on D tokens (a point law), along a learning-rate schedule (a curve law, --schedule), or the end of a run from its first steps (--from-run)',
    )
    .option('--law <law.json>', 'a law written by `efficientscale fit --out` (with --from-run: a curve law whose annealing shape is held)')
    .option('--params <N>', 'parameters', positiveNumber)
    .option('--tokens <D>', 'training tokens (point laws)', positiveNumber)
    .option('--unique-tokens <U>', 'distinct tokens when data is repeated (repetition law)', positiveNumber)
    .option('--schedule <kind|run>', 'curve laws: wsd, cosine, constant, or a run directory whose schedule (and measured losses) to use')
    .option('--steps <n>', 'curve laws: steps of the schedule', positiveInt)
    .option('--lr <x>', 'peak learning rate of a named schedule (default: that of the law\'s first run)', positiveNumber)
    .option('--warmup <n>', 'warmup steps of a named schedule (default: those of the law\'s first run)', nonNegativeInt)
    .option('--decay-fraction <x>', 'wsd: the fraction of steps that decays (default 0.2, as train)', positiveNumber)
    .option('--min-ratio <x>', 'cosine, wsd: the final LR as a fraction of the peak (default 0.1, as train)', nonNegativeNumber)
    .option('--from-run <run>', 'fit a curve law on the first steps of a run (--until-step) and predict the rest of its schedule')
    .option('--until-step <n>', 'with --from-run: the last step fitted', positiveInt)
    .addOption(new Option('--form <law>', 'with --from-run and no --law: the curve law to fit').choices([...CURVE_LAW_NAMES]).default('annealing'))
    .option('--fix <name=value,...>', 'with --from-run: parameters to hold (a bare name takes the --law value)')
    .option('--loss-column <name>', 'runs: eval_loss (default) or loss (training)')
    .option('--early-fraction <x>', "with --from-run: drop the first x of the run's steps", nonNegativeNumber)
    .option('--bootstrap <n>', 'with --from-run: bootstrap resamples (blocks of the run\'s losses) for an interval', nonNegativeInt, 0)
    .option('--seed <n>', 'bootstrap seed', nonNegativeInt, 0)
    .option('--plot <file.svg>', 'curve laws: plot the predicted curve (and the measured one for a run)')
    .option('--json', 'print one JSON object')
    .action(async (flags: PredictFlags) => {
      await checkOutputFiles([['--plot', flags.plot]], flags.force);
      if (flags.fromRun) return predictFromRun(flags);
      if (!flags.law) throw mismatch('predict', 'a law (--law law.json) or a run to predict from (--from-run)', 'neither');
      const law = readAnyLawFile(flags.law);
      if (law.kind === 'curve') return predictAlongSchedule(law, flags.law, flags);
      if (flags.schedule) throw mismatch(`--law ${flags.law}`, 'a whole-curve law (fit --law annealing or multipower) to predict along --schedule', `a ${law.law} law`);
      if (flags.params === undefined || flags.tokens === undefined) {
        throw mismatch(`--law ${flags.law} (${law.law})`, 'the model size and training tokens (--params N --tokens D)', flags.params === undefined ? 'no --params' : 'no --tokens');
      }
      const loss = predictLoss(law, flags.params, flags.tokens, flags.uniqueTokens);
      const confidence = law.bootstrap?.confidence;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ law: law.law, params: flags.params, tokens: flags.tokens, uniqueTokens: flags.uniqueTokens ?? null, loss: loss.value, interval: loss.interval ?? null, confidence: confidence ?? null })}\n`);
        return;
      }
      process.stdout.write(`predicted loss at N=${fmt(flags.params)}, D=${fmt(flags.tokens)}: ${estimateText(loss, confidence)}\n`);
    });
}
