import { InvalidArgumentError, Option, type Command } from 'commander';
import { checkpointTokenizer, loadDefaultCorpus, loadTextCorpus, readHfConfig, resolveCheckpointDir, tf, type BackendName, type ModelConfig } from '@efficientscale/core/node';
import { defaultCalibration, planUpcycle, upcycleStats, type RouterInit, type UpcyclePlanOptions, type UpcyclePlanReport } from '@efficientscale/moe';
import { backendOption, nonNegativeInt, nonNegativeNumber, positiveInt, useBackend } from './options.js';
import { addTransformFlags, refuseWithStream, runFields, runLine, runTransform, type TransformFlags, type TransformRun } from './transform-run.js';
import { decimal } from './numbers.js';

interface UpcycleFlags extends TransformFlags {
  experts: number;
  topK: number;
  routerInit: RouterInit;
  noise: number;
  dropFraction: number;
  granularity: number;
  layers: UpcyclePlanOptions['layers'];
  seed: number;
  resetOptimizer?: boolean;
  auxLossCoef?: number;
  zLossCoef?: number;
  corpus?: string;
  backend: BackendName;
}

/** `all`, `even` or a comma-separated list of layer indices. */
function layersFlag(value: string): UpcyclePlanOptions['layers'] {
  if (value === 'all' || value === 'even') return value;
  const list = value.split(',').map((s) => decimal(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`Expected all, even or layer indices like 0,2,5, found "${value}".`);
  }
  return list;
}

function fraction(value: string): number {
  const n = decimal(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`Expected a number in [0, 1], found "${value}".`);
  return n;
}

/** k-means and the preservation check run on text the model was trained on, when it has a tokenizer that fits its vocabulary. */
function calibrationTokens(dir: string, config: ModelConfig, corpusFile?: string): tf.Tensor2D | undefined {
  const tokenizer = checkpointTokenizer(dir);
  if (!tokenizer || tokenizer.vocabSize > config.vocab_size) return undefined;
  const text = (corpusFile ? loadTextCorpus(corpusFile) : loadDefaultCorpus()).text;
  const seq = Math.min(64, config.max_position_embeddings ?? 2048);
  const ids = tokenizer.encode(text.slice(0, 40_000));
  const rows = Math.min(8, Math.floor(ids.length / seq));
  return rows > 0 ? tf.tensor2d(ids.subarray(0, rows * seq), [rows, seq], 'int32') : undefined;
}

function describe(run: TransformRun<UpcyclePlanReport>, optimizer: string): string {
  const r = run.report;
  return (
    `upcycled layers ${r.layers.join(',')} to ${r.experts} experts (top-${r.topK}, ffn ${r.expertIntermediateSize})\n` +
    `parameters ${r.paramsBefore.toLocaleString('en')} → ${r.paramsAfter.toLocaleString('en')}; active per token ` +
    `${r.activeMatmulParamsBefore.toLocaleString('en')} → ${r.activeMatmulParamsAfter.toLocaleString('en')}; ` +
    `load-balancing coefficient ${r.auxLossCoef}${r.zLossCoef > 0 ? `, router z-loss ${r.zLossCoef}` : ''}; max |Δlogit| ${run.probe ? run.probe.maxAbsLogitDiff.toExponential(2) : 'not measured (streamed)'}; optimizer state ${optimizer}${r.mixtral ? '; a MixtralForCausalLM checkpoint' : ''}\n` +
    runLine(run)
  );
}

export function registerUpcycle(program: Command): void {
  const cmd = program
    .command('upcycle')
    .description('sparse upcycling: turn a checkpoint\'s dense FFNs into Mixture-of-Experts layers (a new checkpoint, same function)')
    .argument('<dir>', 'a run directory, a checkpoint directory or a Hugging Face directory (dense)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .requiredOption('--experts <n>', 'experts per MoE layer (copies of the dense FFN)', positiveInt)
    .requiredOption('--top-k <k>', 'experts each token uses', positiveInt)
    .addOption(new Option('--router-init <kind>', 'router weights').choices(['random', 'zero', 'kmeans']).default('random'))
    .option('--noise <sigma>', 'Gaussian noise added to each expert copy', nonNegativeNumber, 0)
    .option('--drop-fraction <p>', 'drop-upcycling: re-initialise this fraction of each expert\'s units', fraction, 0)
    .option('--granularity <g>', 'split each copy into g fine-grained experts (experts·g experts, top-k·g active)', positiveInt, 1)
    .option('--layers <which>', 'all, even, or indices like 0,2,5', layersFlag, 'all')
    .option('--seed <n>', 'seed for router, noise and drop', nonNegativeInt, 0)
    .option('--aux-loss-coef <c>', 'load-balancing loss coefficient, router_aux_loss_coef (default: the dense config\'s, else 0.001 as in Mixtral)', nonNegativeNumber)
    .option('--z-loss-coef <c>', 'router z-loss coefficient, efficientscale.ffn_options.moe.router_z_loss_coef (default: none, 0)', nonNegativeNumber)
    .option('--reset-optimizer', 'start the experts\' AdamW moments at zero instead of copying the dense ones')
    .option('--corpus <file>', 'calibration text for --router-init kmeans and the logit check (default: the embedded corpus)');
  addTransformFlags(cmd)
    .addOption(backendOption())
    .option('--json', 'print the upcycling report as one JSON object')
    .action(async (dirArg: string, flags: UpcycleFlags) => {
      refuseWithStream(flags, flags.routerInit === 'kmeans' ? '--router-init kmeans' : undefined, 'k-means clusters every layer\'s FFN inputs from a forward pass of the whole model');
      await useBackend(flags.backend, true);
      const dir = resolveCheckpointDir(dirArg);
      const options: UpcyclePlanOptions = {
        experts: flags.experts,
        topK: flags.topK,
        routerInit: flags.routerInit,
        noise: flags.noise,
        dropFraction: flags.dropFraction,
        granularity: flags.granularity,
        layers: flags.layers,
        seed: flags.seed,
        resetOptimizer: flags.resetOptimizer,
        auxLossCoef: flags.auxLossCoef,
        zLossCoef: flags.zLossCoef,
      };
      const calibration = flags.stream ? undefined : calibrationTokens(dir, readHfConfig(dir), flags.corpus);
      try {
        const run = runTransform(dir, flags, ({ config, params }) => planUpcycle(config, options, options.routerInit === 'kmeans' ? upcycleStats(config, params!, calibration ?? defaultCalibration(config, options.seed ?? 0)) : undefined), { probeTokens: calibration });
        const optimizer = !run.resumable ? 'none' : flags.resetOptimizer ? 'reset' : 'copied';
        if (flags.json) process.stdout.write(`${JSON.stringify({ ...runFields(run), ...run.report, maxAbsLogitDiff: run.probe?.maxAbsLogitDiff, optimizer })}\n`);
        else process.stdout.write(describe(run, optimizer));
      } finally {
        calibration?.dispose();
      }
    });
}
