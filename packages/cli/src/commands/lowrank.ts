import type { Command } from 'commander';
import { loadDefaultCorpus, loadTextCorpus, readHfConfig, readRunInfo, splitTrainVal, mismatch, resolveCheckpointDir, tf, UserError, type BackendName } from '@efficientscale/core/node';
import { lowRankStats, planDense, planLowRank, type LowRankPlanOptions, type LowRankPlanReport, type ToDenseReport } from '@efficientscale/lowrank';
import { backendOption, positiveInt, positiveNumber, useBackend } from './options.js';
import { addTransformFlags, refuseWithStream, runFields, runLine, runTransform, type TransformFlags, type TransformRun } from './transform-run.js';

interface LowRankFlags extends TransformFlags {
  rank?: number;
  fraction?: number;
  energy?: number;
  keepFirstDense: boolean;
  shareGateUpV?: boolean;
  force?: boolean;
  calibrate?: number;
  aware?: string;
  corpus?: string;
  seq: number;
  backend: BackendName;
}

interface ExportFlags extends TransformFlags {
  dense?: boolean;
  backend: BackendName;
}

/** `count` sequences of `seq` tokens from the start of the corpus's training split, tokenized as the model was trained. */
function calibrationTokens(dir: string, corpusFile: string | undefined, count: number, seq: number, vocab: number): tf.Tensor2D {
  const corpus = corpusFile ? loadTextCorpus(corpusFile) : loadDefaultCorpus();
  const { tokenizer, valFraction } = readRunInfo(dir);
  const { train } = splitTrainVal(tokenizer.encode(corpus.text), valFraction);
  if (train.length < count * seq) throw mismatch('--calibrate', `at most ${Math.floor(train.length / seq)} sequences of ${seq} tokens in ${corpus.name}`, String(count));
  const ids = train.slice(0, count * seq);
  const bad = ids.findIndex((v) => v >= vocab);
  if (bad >= 0) throw mismatch(`calibration token ${bad}`, `an id below the model's vocab_size ${vocab}`, String(ids[bad]));
  return tf.tensor2d(ids, [count, seq], 'int32');
}

/** Calibration sequences when --aware names a corpus but not how many. */
const defaultCalibration = 16;

function describe(run: TransformRun<LowRankPlanReport>): string {
  const r = run.report;
  const lines = r.weights.map((w) => `${w.name} [${w.shape}] rank ${w.rank} (break-even ${w.breakEvenRank.toFixed(1)}): energy kept ${(100 * w.keptEnergy).toFixed(2)}%, relative error ${w.relativeError.toExponential(3)}`);
  const probe = run.probe ? `max |Δ| ${run.probe.maxAbsLogitDiff.toExponential(3)}, relative ${run.probe.relativeLogitDiff.toExponential(3)}` : 'not measured (streamed)';
  lines.push(`params ${r.paramsBefore} → ${r.paramsAfter}; probe logits: ${probe}`);
  return lines.join('\n') + '\n' + runLine(run);
}

export function registerLowrank(program: Command): void {
  const lowrank = program
    .command('lowrank')
    .description('convert a checkpoint\'s dense FFNs to low-rank U·V factors by truncated SVD (a new checkpoint)')
    .argument('<dir>', 'a run directory, a checkpoint directory or a Hugging Face directory')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .option('--rank <r>', 'one rank for every FFN weight', positiveInt)
    .option('--fraction <f>', 'keep this fraction of each FFN\'s parameters', positiveNumber)
    .option('--energy <e>', 'per weight, the smallest rank keeping this share of Σσ²', positiveNumber)
    .option('--keep-first-dense', 'leave layer 0 dense (the default)', true)
    .option('--no-keep-first-dense', 'convert layer 0 too')
    .option('--share-gate-up-v', 'gate_proj and up_proj share one V')
    .option('--force', 'allow ranks at or above the break-even rank m·n/(m+n)')
    .option('--aware <corpus>', 'activation-aware (SVD-LLM): whiten by the FFN inputs of calibration sequences from this text file')
    .option('--calibrate <n>', `calibration sequences for --aware (default ${defaultCalibration}); alone, from the embedded corpus (or --corpus)`, positiveInt)
    .option('--corpus <file>', 'with --calibrate: calibration text instead of the embedded corpus (same as --aware)')
    .option('--seq <n>', 'tokens per calibration sequence', positiveInt, 64);
  addTransformFlags(lowrank)
    .addOption(backendOption())
    .option('--json', 'print the conversion report as one JSON object')
    .action(async (dirArg: string, flags: LowRankFlags) => {
      const given = [flags.rank, flags.fraction, flags.energy].filter((x) => x !== undefined).length;
      if (given !== 1) throw new UserError(`lowrank: expected exactly one of --rank, --fraction, --energy, found ${given}`);
      if (flags.aware !== undefined && flags.corpus !== undefined) throw new UserError('lowrank: expected at most one of --aware, --corpus (both name the calibration text), found both');
      const count = flags.calibrate ?? (flags.aware !== undefined ? defaultCalibration : undefined);
      refuseWithStream(flags, flags.energy !== undefined ? '--energy' : undefined, 'picking ranks by energy reads every singular value of every weight first');
      refuseWithStream(flags, count !== undefined ? (flags.aware !== undefined ? '--aware' : '--calibrate') : undefined, 'activation-aware factors need every layer\'s inputs from a forward pass of the whole model');
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const options: LowRankPlanOptions = { rank: flags.rank, fraction: flags.fraction, energy: flags.energy, keepFirstDense: flags.keepFirstDense, shareGateUpV: flags.shareGateUpV, force: flags.force };
      let calib: tf.Tensor2D | undefined;
      try {
        if (count) {
          const config = readHfConfig(dir);
          calib = calibrationTokens(dir, flags.aware ?? flags.corpus, count, Math.min(flags.seq, config.max_position_embeddings ?? 2048), config.vocab_size);
        }
        const run = runTransform(dir, flags, ({ config, params }) => planLowRank(config, options, params ? lowRankStats(config, params, options, calib) : {}));
        const probe = run.probe ? { probeMaxAbsLogitDiff: run.probe.maxAbsLogitDiff, probeRelativeLogitDiff: run.probe.relativeLogitDiff } : {};
        process.stdout.write(flags.json ? `${JSON.stringify({ ...runFields(run), ...run.report, ...probe })}\n` : describe(run));
      } finally {
        calib?.dispose();
      }
    });

  const exporter = program
    .command('export')
    .description('write a checkpoint in a plain format; --dense multiplies low-rank factors out into a standard Llama checkpoint')
    .argument('<dir>', 'a run directory, a checkpoint directory or a Hugging Face directory')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .option('--dense', 'multiply low-rank FFN factors out (required: the only export format so far)');
  addTransformFlags(exporter)
    .addOption(backendOption())
    .option('--json', 'print one JSON object')
    .action(async (dirArg: string, flags: ExportFlags) => {
      if (!flags.dense) throw mismatch('export', '--dense (the only export format so far)', 'no format flag');
      await useBackend(flags.backend, true);
      const run: TransformRun<ToDenseReport> = runTransform(resolveCheckpointDir(dirArg), flags, ({ config }) => planDense(config));
      const r = run.report;
      if (flags.json) process.stdout.write(`${JSON.stringify({ ...runFields(run), ...r })}\n`);
      else process.stdout.write(`multiplied out the FFN of layers [${r.layers.join(', ')}]; params ${r.paramsBefore} → ${r.paramsAfter}\n${runLine(run)}`);
    });
}
