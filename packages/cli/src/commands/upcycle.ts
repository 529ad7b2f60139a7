import * as path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  checkParams,
  fromRaw,
  loadCheckpointFiles,
  loadDefaultCorpus,
  loadTextCorpus,
  mapValues,
  assertNewOutputDir,
  readRunInfo,
  resolveCheckpointDir,
  saveCheckpoint,
  tf,
  toRaw,
  validateConfig,
  type BackendName,
} from '@efficientscale/core';
import { upcycle, type RouterInit, type UpcycleOptions } from '@efficientscale/moe';
import { backendOption, nonNegativeInt, nonNegativeNumber, positiveInt, useBackend } from './options.js';

interface UpcycleFlags {
  out: string;
  experts: number;
  topK: number;
  routerInit: RouterInit;
  noise: number;
  dropFraction: number;
  granularity: number;
  layers: UpcycleOptions['layers'];
  seed: number;
  resetOptimizer?: boolean;
  corpus?: string;
  backend: BackendName;
  json?: boolean;
}

/** `all`, `even` or a comma-separated list of layer indices. */
function layersFlag(value: string): UpcycleOptions['layers'] {
  if (value === 'all' || value === 'even') return value;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`Expected all, even or layer indices like 0,2,5, found "${value}".`);
  }
  return list;
}

function fraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`Expected a number in [0, 1], found "${value}".`);
  return n;
}

/** k-means and the preservation check run on text the model was trained on, when its tokenizer fits the vocabulary. */
function calibrationTokens(dir: string, vocab: number, maxPositions: number, corpusFile?: string): tf.Tensor2D | undefined {
  const { tokenizer } = readRunInfo(dir);
  if (tokenizer.vocabSize > vocab) return undefined;
  const text = (corpusFile ? loadTextCorpus(corpusFile) : loadDefaultCorpus()).text;
  const seq = Math.min(64, maxPositions);
  const ids = tokenizer.encode(text.slice(0, 40_000));
  const rows = Math.min(8, Math.floor(ids.length / seq));
  return rows > 0 ? tf.tensor2d(ids.subarray(0, rows * seq), [rows, seq], 'int32') : undefined;
}

export function registerUpcycle(program: Command): void {
  program
    .command('upcycle')
    .description('sparse upcycling: turn a checkpoint\'s dense FFNs into Mixture-of-Experts layers (a new checkpoint, same function)')
    .argument('<dir>', 'a run directory or a checkpoint directory (dense)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .requiredOption('--experts <n>', 'experts per MoE layer (copies of the dense FFN)', positiveInt)
    .requiredOption('--top-k <k>', 'experts each token uses', positiveInt)
    .addOption(new Option('--router-init <kind>', 'router weights').choices(['random', 'zero', 'kmeans']).default('random'))
    .option('--noise <sigma>', 'Gaussian noise added to each expert copy', nonNegativeNumber, 0)
    .option('--drop-fraction <p>', 'drop-upcycling: re-initialise this fraction of each expert\'s units', fraction, 0)
    .option('--granularity <g>', 'split each copy into g fine-grained experts (experts·g experts, top-k·g active)', positiveInt, 1)
    .option('--layers <which>', 'all, even, or indices like 0,2,5', layersFlag, 'all')
    .option('--seed <n>', 'seed for router, noise and drop', nonNegativeInt, 0)
    .option('--reset-optimizer', 'start the experts\' AdamW moments at zero instead of copying the dense ones')
    .option('--corpus <file>', 'calibration text for --router-init kmeans (default: the embedded corpus)')
    .addOption(backendOption())
    .option('--json', 'print the upcycling report as one JSON object')
    .action(async (dirArg: string, flags: UpcycleFlags) => {
      assertNewOutputDir(flags.out);
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const files = loadCheckpointFiles(dir);
      const config = validateConfig(files.config, path.join(dir, 'config.json'));
      checkParams(config, files.params, path.join(dir, 'model.safetensors'));
      const params = mapValues(files.params, fromRaw);
      const optimizer = files.optimizer ? mapValues(files.optimizer, fromRaw) : undefined;
      const calibration = calibrationTokens(dir, config.vocab_size, (config.max_position_embeddings as number | undefined) ?? 2048, flags.corpus);
      const result = upcycle(config, params, {
        experts: flags.experts,
        topK: flags.topK,
        routerInit: flags.routerInit,
        noise: flags.noise,
        dropFraction: flags.dropFraction,
        granularity: flags.granularity,
        layers: flags.layers,
        seed: flags.seed,
        calibrationTokens: calibration,
        optimizer,
        resetOptimizer: flags.resetOptimizer,
      });
      // trainer_state.json travels along: `train --resume` continues from it and eval finds the tokenizer.
      saveCheckpoint(flags.out, {
        config: result.config,
        params: mapValues(result.params, toRaw),
        optimizer: result.optimizer ? mapValues(result.optimizer, toRaw) : undefined,
        trainerState: files.trainerState,
        tokenizer: dir,
      });
      tf.dispose([...Object.values(params), ...Object.values(optimizer ?? {}), ...Object.values(result.params), ...Object.values(result.optimizer ?? {}), ...(calibration ? [calibration] : [])]);
      const r = result.report;
      if (flags.json) process.stdout.write(JSON.stringify({ out: path.resolve(flags.out), ...r }) + '\n');
      else {
        process.stdout.write(
          `upcycled layers ${r.layers.join(',')} to ${r.experts} experts (top-${r.topK}, ffn ${r.expertIntermediateSize}) → ${flags.out}\n` +
            `parameters ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')}; active per token ` +
            `${r.activeMatmulParamsBefore.toLocaleString('en')} → ${r.activeMatmulParamsAfter.toLocaleString('en')}; ` +
            `max |Δlogit| ${r.maxAbsLogitDiff.toExponential(2)}; optimizer state ${r.optimizer}${r.mixtral ? '; a MixtralForCausalLM checkpoint' : ''}\n`,
        );
      }
    });
}
