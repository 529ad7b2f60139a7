import * as path from 'node:path';
import type { Command } from 'commander';
import { assertNewOutputDir, disposeModel, loadDefaultCorpus, loadModel, loadTextCorpus, readRunInfo, splitTrainVal, mismatch, readCheckpointText, resolveCheckpointDir, saveModel, tf, UserError, type BackendName, type Params } from '@efficientscale/core';
import { toDense, toLowRank } from '@efficientscale/lowrank';
import { backendOption, positiveInt, positiveNumber, useBackend } from './options.js';

interface LowRankFlags {
  out: string;
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
  json?: boolean;
}

interface ExportFlags {
  out: string;
  dense?: boolean;
  backend: BackendName;
  json?: boolean;
}

/** The source's trainer_state.json travels along so that eval finds the tokenizer the model was trained with. */
function carriedFiles(dir: string): Record<string, string> {
  const state = readCheckpointText(dir, 'trainer_state.json');
  return state ? { 'trainer_state.json': state } : {};
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

const disposeParams = (p: Params) => tf.dispose(Object.values(p));

/** Calibration sequences when --aware names a corpus but not how many. */
const defaultCalibration = 16;

export function registerLowrank(program: Command): void {
  program
    .command('lowrank')
    .description('convert a checkpoint\'s dense FFNs to low-rank U·V factors by truncated SVD (a new checkpoint)')
    .argument('<dir>', 'a run directory or a checkpoint directory')
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
    .option('--seq <n>', 'tokens per calibration sequence', positiveInt, 64)
    .addOption(backendOption())
    .option('--json', 'print the conversion report as one JSON object')
    .action(async (dirArg: string, flags: LowRankFlags) => {
      const given = [flags.rank, flags.fraction, flags.energy].filter((x) => x !== undefined).length;
      if (given !== 1) throw new UserError(`lowrank: expected exactly one of --rank, --fraction, --energy, found ${given}`);
      if (flags.aware !== undefined && flags.corpus !== undefined) throw new UserError('lowrank: expected at most one of --aware, --corpus (both name the calibration text), found both');
      assertNewOutputDir(flags.out);
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const model = loadModel(dir);
      const count = flags.calibrate ?? (flags.aware !== undefined ? defaultCalibration : undefined);
      const seq = Math.min(flags.seq, model.config.max_position_embeddings ?? 2048);
      const calib = count ? calibrationTokens(dir, flags.aware ?? flags.corpus, count, seq, model.config.vocab_size) : undefined;
      try {
        const result = toLowRank(model.config, model.params, {
          rank: flags.rank,
          fraction: flags.fraction,
          energy: flags.energy,
          keepFirstDense: flags.keepFirstDense,
          shareGateUpV: flags.shareGateUpV,
          force: flags.force,
          aware: calib ? { tokens: calib } : undefined,
        });
        saveModel(flags.out, result.config, result.params, dir, carriedFiles(dir));
        disposeParams(result.params);
        const r = result.report;
        if (flags.json) process.stdout.write(`${JSON.stringify({ out: path.resolve(flags.out), ...r })}\n`);
        else {
          for (const w of r.weights) {
            process.stdout.write(`${w.name} [${w.shape}] rank ${w.rank} (break-even ${w.breakEvenRank.toFixed(1)}): energy kept ${(100 * w.keptEnergy).toFixed(2)}%, relative error ${w.relativeError.toExponential(3)}\n`);
          }
          process.stdout.write(`params ${r.paramsBefore} → ${r.paramsAfter}; probe logits: max |Δ| ${r.probeMaxAbsLogitDiff.toExponential(3)}, relative ${r.probeRelativeLogitDiff.toExponential(3)}\nwrote ${flags.out}\n`);
        }
      } finally {
        calib?.dispose();
        disposeModel(model);
      }
    });

  program
    .command('export')
    .description('write a checkpoint in a plain format; --dense multiplies low-rank factors out into a standard Llama checkpoint')
    .argument('<dir>', 'a run directory or a checkpoint directory')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .option('--dense', 'multiply low-rank FFN factors out (required: the only export format so far)')
    .addOption(backendOption())
    .option('--json', 'print one JSON object')
    .action(async (dirArg: string, flags: ExportFlags) => {
      if (!flags.dense) throw mismatch('export', '--dense (the only export format so far)', 'no format flag');
      assertNewOutputDir(flags.out);
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const model = loadModel(dir);
      try {
        const result = toDense(model.config, model.params);
        saveModel(flags.out, result.config, result.params, dir, carriedFiles(dir));
        disposeParams(result.params);
        const r = result.report;
        if (flags.json) process.stdout.write(`${JSON.stringify({ out: path.resolve(flags.out), ...r })}\n`);
        else process.stdout.write(`multiplied out the FFN of layers [${r.layers.join(', ')}]; params ${r.paramsBefore} → ${r.paramsAfter}; wrote ${flags.out}\n`);
      } finally {
        disposeModel(model);
      }
    });
}
