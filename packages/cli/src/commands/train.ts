import * as path from 'node:path';
import { Option, type Command } from 'commander';
import {
  assertNewRunDir,
  UserError,
  getPreset,
  presets,
  loadDefaultCorpus,
  loadRecordedCorpus,
  loadTextCorpus,
  parseConfig,
  readRunInfo,
  readText,
  resolveCheckpointDir,
  continueRun,
  startRun,
  tokenizerByName,
  tokenizerKinds,
  readHfConfig,
  type BackendName,
  type CheckedTrainerState,
  type RunResult,
  type RunSpec,
} from '@efficientscale/core/node';
import { backendOption, nonNegativeInt, positiveInt, positiveNumber, useBackend } from './options.js';
import { trainingProgress } from './progress.js';
import { refuseSettingFlags, resumeStepsNote } from './train-resume.js';
import { writeLossPlot } from './loss-plot.js';
import type { PilotResult } from '@efficientscale/progressive';
import { addLowrankTrainOptions, lowrankBetweenSteps, lowrankTrainConfig } from './train-lowrank.js';
import { addProgressiveTrainOptions, progressiveGrow, progressiveScheduleDefault, progressiveScheduleSteps, progressiveStart } from './train-progressive.js';

interface TrainFlags {
  preset: string;
  config?: string;
  corpus?: string;
  steps?: number;
  tokens?: number;
  out?: string;
  resume?: string;
  initFrom?: string;
  backend: BackendName;
  seed?: number;
  lr?: number;
  batch?: number;
  seq?: number;
  accumulation?: number;
  schedule?: 'cosine' | 'wsd' | 'constant';
  evalEvery?: number;
  evalBatches?: number;
  tokenizer?: string;
  ffn?: string;
  progressive?: boolean;
  json?: boolean;
}

const timestamp = () => new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** Flags that shape a fresh model; a run --init-from takes the checkpoint's model as it is. */
function refuseModelFlags(flags: TrainFlags): void {
  const given = ([['--resume', flags.resume], ['--config', flags.config], ['--ffn', flags.ffn], ['--progressive', flags.progressive]] as const).find(([, v]) => v !== undefined);
  if (given) throw new UserError(`--init-from: expected no ${given[0]} beside it (the run trains the checkpoint's model as it is; grow, upcycle or lowrank it first), found ${given[0]}`);
}

/** The run's settings: the preset's, with the flags' changes; steps, schedule length, eval and checkpoint cadence from the step count. */
function runSpec(flags: TrainFlags, spec: RunSpec, corpus: string): RunSpec {
  const t = spec.trainer;
  if (flags.batch) t.batchSize = flags.batch;
  if (flags.seq) t.seqLen = flags.seq;
  if (flags.accumulation) t.accumulation = flags.accumulation;
  if (flags.seed !== undefined) t.seed = flags.seed;
  if (flags.lr) t.schedule.lr = flags.lr;
  if (flags.schedule) {
    t.schedule = { ...t.schedule, kind: flags.schedule } as typeof t.schedule;
  }
  progressiveScheduleDefault(flags, t);
  if (flags.tokens) spec.totalSteps = Math.max(1, Math.ceil(flags.tokens / (t.batchSize * t.seqLen * t.accumulation)));
  if (flags.steps) spec.totalSteps = flags.steps;
  if ('total' in t.schedule) t.schedule.total = spec.totalSteps;
  t.schedule.warmup = Math.min(t.schedule.warmup ?? 0, Math.floor(spec.totalSteps / 5));
  progressiveScheduleSteps(flags, t, spec.totalSteps);
  spec.evalEvery = flags.evalEvery ?? Math.max(1, Math.floor(spec.totalSteps / 10));
  if (flags.evalBatches) t.evalBatches = flags.evalBatches;
  spec.checkpointEvery = Math.max(1, Math.floor(spec.totalSteps / 4));
  spec.corpus = corpus;
  return spec;
}

/** The --corpus file; else, resuming, the corpus the run recorded; else the embedded one. */
function corpusFrom(flag?: string, resume?: string) {
  if (flag) return loadTextCorpus(flag);
  if (!resume) return loadDefaultCorpus();
  const dir = resolveCheckpointDir(resume);
  return loadRecordedCorpus(readRunInfo(dir).corpus, `${dir}: trainer_state.json "spec.corpus"`);
}

export function registerTrain(program: Command): void {
  addProgressiveTrainOptions(addLowrankTrainOptions(program.command('train')))
    .description('train a Llama-style model on the embedded corpus (or a text file), with checkpoints and metrics.jsonl')
    .addOption(new Option('--preset <name>', 'model and run settings to start from').choices(Object.keys(presets)).default('tiny'))
    .option('--config <file>', 'a Hugging Face config.json (LlamaForCausalLM) instead of the preset model')
    .option('--corpus <file>', 'a UTF-8 text file instead of the embedded Brown Corpus (a resumed run reads the one it recorded)')
    .option('--steps <n>', 'optimizer steps (with --resume: the total to reach, counting the steps already done)', positiveInt)
    .option('--tokens <n>', 'training tokens (sets --steps from batch × seq)', positiveInt)
    .option('--out <dir>', 'run directory (default runs/<preset>-<time>)')
    .option('--resume <dir>', 'continue a run from its checkpoint with the settings it was started with (flags that would change them are refused)')
    .option('--init-from <dir>', 'start a new run from a checkpoint\'s weights (and AdamW moments when it has them), counters at 0: a run, a grow/upcycle/lowrank/export output or a Hugging Face directory')
    .addOption(backendOption())
    .option('--seed <n>', 'seed for weights and data order', nonNegativeInt)
    .option('--lr <x>', 'peak learning rate', positiveNumber)
    .option('--batch <n>', 'sequences per micro-batch', positiveInt)
    .option('--seq <n>', 'tokens per sequence', positiveInt)
    .option('--accumulation <n>', 'micro-batches per optimizer step', positiveInt)
    .addOption(new Option('--schedule <kind>', 'LR schedule after linear warmup').choices(['cosine', 'wsd', 'constant']))
    .option('--eval-every <n>', 'held-out loss every n steps (default: 10 evaluations a run; curve laws want 50 or more)', positiveInt)
    .option('--eval-batches <n>', 'batches in each held-out evaluation', positiveInt)
    .option('--tokenizer <name>', `${tokenizerKinds.join(' or ')} (byte: vocabulary 256; gpt2: GPT-2 BPE, 50,257), or a tokenizer.json (or a directory holding one); default byte, or with --init-from the checkpoint's own`)
    .option('--json', 'print one JSON object with the results at the end')
    .action(async (flags: TrainFlags, command: Command) => {
      if (flags.steps !== undefined && flags.tokens !== undefined) {
        throw new UserError('--steps and --tokens: expected at most one of them, found both');
      }
      if (flags.initFrom !== undefined) refuseModelFlags(flags);
      const backend = await useBackend(flags.backend, false);
      const corpus = corpusFrom(flags.corpus, flags.resume);
      const progress = trainingProgress(0);
      const onProgress = progress.update;
      let result: RunResult;
      let pilot: PilotResult | undefined;
      // The bar's timer keeps the process alive: it stops on an error too, or the command would never exit.
      try {
        if (flags.resume) {
          const outDir = flags.out ?? flags.resume;
          const onState = (state: CheckedTrainerState) => {
            refuseSettingFlags(command, state);
            const note = resumeStepsNote(state, flags.steps);
            if (note) process.stderr.write(`${note}\n`);
          };
          result = await continueRun({ outDir, from: flags.resume, text: corpus.text, onProgress, totalSteps: flags.steps, betweenSteps: lowrankBetweenSteps, grow: progressiveGrow, onState });
        } else if (flags.initFrom !== undefined) {
          const initFrom = resolveCheckpointDir(flags.initFrom);
          lowrankTrainConfig(flags, readHfConfig(initFrom)); // refuses --rank & co. without --ffn lowrank
          const spec = runSpec(flags, getPreset(flags.preset).spec, corpus.source);
          const outDir = flags.out ?? path.join('runs', `init-${timestamp()}`);
          if (!flags.json) process.stderr.write(`training from the weights of ${initFrom} for ${spec.totalSteps} steps on ${corpus.name} → ${outDir}\n`);
          const tokenizer = flags.tokenizer === undefined ? undefined : tokenizerByName(flags.tokenizer);
          result = await startRun({ outDir, text: corpus.text, tokenizer, initFrom, spec, onProgress, betweenSteps: lowrankBetweenSteps });
        } else {
          const preset = getPreset(flags.preset);
          const tokenizer = tokenizerByName(flags.tokenizer ?? 'byte');
          const config = lowrankTrainConfig(flags, flags.config
            ? parseConfig(readText(flags.config, 'a config.json'), flags.config)
            : { ...preset.config, vocab_size: tokenizer.vocabSize });
          const spec = runSpec(flags, preset.spec, corpus.source);
          const progressive = await progressiveStart(flags, config, spec, { text: corpus.text, tokenizer });
          pilot = progressive.pilot;
          const outDir = flags.out ?? path.join('runs', `${flags.preset}-${timestamp()}`);
          assertNewRunDir(outDir);
          if (!flags.json) {
            process.stderr.write(`training ${progressive.finalParams.toLocaleString('en')} parameters for ${spec.totalSteps} steps on ${corpus.name} → ${outDir}\n`);
          }
          result = await startRun({ outDir, text: corpus.text, tokenizer, config: progressive.config, spec, onProgress, betweenSteps: lowrankBetweenSteps, growth: progressive.growth });
        }
      } finally {
        progress.stop();
      }
      const unigram = result.unigramEntropy;
      const plot = await writeLossPlot(result.outDir, unigram);
      const summary = {
        out: result.outDir,
        checkpoint: result.checkpointDir,
        backend: backend.name,
        steps: result.steps,
        tokens: result.tokens,
        flops: result.flops,
        params: result.params,
        train_loss: result.trainLoss,
        eval_loss: result.evalLoss,
        unigram_entropy: unigram,
        tokenizer: result.tokenizer,
        tokens_per_s: result.tokensPerSecond,
        wall_s: result.wallSeconds,
        plot: plot ?? null,
        ...(pilot ? { pilot: { steps: pilot.steps, grew_at: pilot.grewAt, catch_up_steps: pilot.catchUpSteps ?? null, grow_step: pilot.growStep ?? null, flops: pilot.flops, note: pilot.note } } : {}),
      };
      if (flags.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else {
        process.stdout.write(
          `done: ${result.steps} steps, ${result.tokens.toLocaleString('en')} tokens, ${result.flops.toExponential(2)} FLOPs\n` +
            `train loss ${result.trainLoss.toFixed(3)}, eval loss ${result.evalLoss.toFixed(3)} nats/token ` +
            `(corpus unigram entropy ${unigram.toFixed(3)})\n` +
            `${Math.round(result.tokensPerSecond)} tokens/s on ${backend.name}; checkpoint in ${result.checkpointDir}${plot ? `; loss curve in ${plot}` : ''}\n`,
        );
      }
    });
}
