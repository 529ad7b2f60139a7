import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { parseJsonObject } from '../io/read.js';
import type { ModelConfig } from '../model/config.js';
import { checkParams, countParams } from '../model/params.js';
import { fromRaw, mapValues, toRaw } from '../model/raw.js';
import { loadCheckpointFiles, readCheckpointText, saveCheckpoint } from '../io/checkpoint.js';
import { splitTrainVal } from '../data/batches.js';
import { ByteTokenizer, tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { unigramEntropy } from '../data/unigram.js';
import { Trainer, type StepMetrics, type TrainerOptions, type TrainerState } from './trainer.js';
import type { ScheduleSpec } from './schedule.js';

/** Everything a run was started with; stored in trainer_state.json so `--resume DIR` needs nothing else. */
export interface RunSpec {
  totalSteps: number;
  trainer: TrainerOptions;
  valFraction: number;
  evalEvery: number;
  checkpointEvery: number;
  corpus: string;
}

export interface Progress extends StepMetrics {
  totalSteps: number;
  tokensPerSecond: number;
  etaSeconds: number;
  evalLoss?: number;
}

export interface RunResult {
  outDir: string;
  checkpointDir: string;
  steps: number;
  tokens: number;
  flops: number;
  params: number;
  trainLoss: number;
  evalLoss: number;
  /** The loss of a model that knows only token frequencies (of the training split): the bar to beat. */
  unigramEntropy: number;
  tokenizer: string;
  wallSeconds: number;
  tokensPerSecond: number;
}

/** The layout of a run directory: an append-only metrics log and one atomically replaced checkpoint. */
export const runPaths = (outDir: string) => ({
  metrics: path.join(outDir, 'metrics.jsonl'),
  checkpoint: path.join(outDir, 'checkpoint'),
});

/**
 * What a checkpoint was trained with: its tokenizer and held-out fraction (from trainer_state.json;
 * a checkpoint without one, such as a transformers checkpoint, gets the byte tokenizer and 2%).
 */
export function readRunInfo(checkpointDir: string): { tokenizer: Tokenizer; valFraction: number } {
  const text = readCheckpointText(checkpointDir, 'trainer_state.json');
  if (!text) return { tokenizer: new ByteTokenizer(), valFraction: 0.02 };
  const stored = parseJsonObject(text, `${checkpointDir}/trainer_state.json`) as Partial<StoredTrainerState>;
  return {
    tokenizer: stored.tokenizer ? tokenizerFromJSON(stored.tokenizer) : new ByteTokenizer(),
    valFraction: stored.spec?.valFraction ?? 0.02,
  };
}

/** A run dir or a checkpoint dir → the checkpoint dir. */
export function resolveCheckpointDir(dir: string): string {
  const inner = runPaths(dir).checkpoint;
  if (fs.existsSync(path.join(inner, 'config.json'))) return inner;
  return dir;
}

interface StoredTrainerState extends TrainerState {
  format: 'efficientscale-trainer-1';
  optimizerStep: number;
  wallSeconds: number;
  spec: RunSpec;
  tokenizer: object;
  lastTrainLoss: number;
}

function save(dir: string, trainer: Trainer, spec: RunSpec, tokenizer: Tokenizer, wallSeconds: number, lastTrainLoss: number): void {
  const state: StoredTrainerState = {
    format: 'efficientscale-trainer-1',
    ...trainer.state,
    optimizerStep: trainer.optimizer.step,
    wallSeconds,
    spec,
    tokenizer: tokenizer.toJSON(),
    lastTrainLoss,
  };
  saveCheckpoint(dir, {
    config: trainer.config,
    params: mapValues(trainer.params, toRaw),
    optimizer: mapValues(trainer.optimizer.stateTensors(), toRaw),
    trainerState: state,
  });
}

export interface StartOptions {
  outDir: string;
  text: string;
  tokenizer: Tokenizer;
  config: ModelConfig;
  spec: RunSpec;
  onProgress?: (p: Progress) => void;
  /** Stop early (e.g. after half the steps, to test resume). */
  stopAfter?: number;
}

export interface ResumeOptions {
  outDir: string;
  /** Checkpoint to continue from (defaults to the run dir's own). */
  from?: string;
  text: string;
  onProgress?: (p: Progress) => void;
  stopAfter?: number;
  /** Continue to this many total steps instead of the stored total. */
  totalSteps?: number;
}

/** Throws unless `outDir` holds no run yet (a fresh run never overwrites one). */
export function assertNewRunDir(outDir: string): void {
  if (fs.existsSync(runPaths(outDir).checkpoint)) {
    throw mismatch(`--out ${outDir}`, 'a new or empty run directory (use --resume to continue)', 'an existing checkpoint');
  }
}

/** Starts a fresh training run in `outDir`. Refuses to overwrite an existing run. */
export async function startRun(o: StartOptions): Promise<RunResult> {
  assertNewRunDir(o.outDir);
  if (o.config.vocab_size < o.tokenizer.vocabSize) {
    throw mismatch('config "vocab_size"', `at least the ${o.tokenizer.name} tokenizer's ${o.tokenizer.vocabSize} tokens`, String(o.config.vocab_size));
  }
  const ids = o.tokenizer.encode(o.text);
  const { train, val } = splitTrainVal(ids, o.spec.valFraction);
  const trainer = Trainer.fresh(o.config, train, val, o.spec.trainer);
  return loop(trainer, o.outDir, o.spec, o.tokenizer, unigramEntropy(train, o.tokenizer.vocabSize), 0, NaN, o.onProgress, o.stopAfter);
}

/** Continues a run from its checkpoint: same data position, optimizer moments and schedule. */
export async function resumeRun(o: ResumeOptions): Promise<RunResult> {
  const dir = resolveCheckpointDir(o.from ?? o.outDir);
  const files = loadCheckpointFiles(dir);
  const stored = files.trainerState as StoredTrainerState | undefined;
  if (!stored || stored.format !== 'efficientscale-trainer-1') {
    throw mismatch(`${dir}/trainer_state.json`, 'a trainer state written by efficientscale train', stored ? `format ${JSON.stringify(stored.format)}` : 'no such file');
  }
  if (!files.optimizer) throw mismatch(dir, 'optimizer.safetensors to resume from', 'no such file');
  const config = files.config as ModelConfig;
  checkParams(config, files.params, `${dir}/model.safetensors`);
  const tokenizer = tokenizerFromJSON(stored.tokenizer);
  const spec: RunSpec = { ...stored.spec, totalSteps: o.totalSteps ?? stored.spec.totalSteps };
  if (o.totalSteps !== undefined) spec.trainer = { ...spec.trainer, schedule: { ...spec.trainer.schedule, total: o.totalSteps } as ScheduleSpec };
  const ids = tokenizer.encode(o.text);
  const { train, val } = splitTrainVal(ids, spec.valFraction);
  const params = mapValues(files.params, fromRaw);
  const optimizer = mapValues(files.optimizer, fromRaw);
  const trainer = new Trainer(config, params, train, val, spec.trainer, { state: stored, optimizer, optimizerStep: stored.optimizerStep });
  tf.dispose([...Object.values(params), ...Object.values(optimizer)]);
  return loop(trainer, o.outDir, spec, tokenizer, unigramEntropy(train, tokenizer.vocabSize), stored.wallSeconds, stored.lastTrainLoss, o.onProgress, o.stopAfter);
}

async function loop(
  trainer: Trainer,
  outDir: string,
  spec: RunSpec,
  tokenizer: Tokenizer,
  unigram: number,
  wallBefore: number,
  lastLoss: number,
  onProgress?: (p: Progress) => void,
  stopAfter?: number,
): Promise<RunResult> {
  const paths = runPaths(outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const params = countParams(trainer.config);
  const started = performance.now();
  const startStep = trainer.state.step;
  const startTokens = trainer.state.tokens;
  const end = Math.min(spec.totalSteps, stopAfter ?? Infinity);
  let trainLoss = lastLoss;
  let evalLoss = NaN;
  const elapsed = () => wallBefore + (performance.now() - started) / 1000;
  try {
    while (trainer.state.step < end) {
      const m = trainer.step();
      trainLoss = m.loss;
      const isLast = trainer.state.step === end;
      const evaluated = (spec.evalEvery > 0 && m.step % spec.evalEvery === 0) || isLast;
      if (evaluated) evalLoss = trainer.evaluate();
      const runSeconds = (performance.now() - started) / 1000;
      const tokensPerSecond = (m.tokens - startTokens) / Math.max(runSeconds, 1e-9);
      const stepsLeft = end - m.step;
      const progress: Progress = {
        ...m,
        totalSteps: end,
        tokensPerSecond,
        etaSeconds: (runSeconds / (m.step - startStep)) * stepsLeft,
        evalLoss: Number.isNaN(evalLoss) ? undefined : evalLoss,
      };
      const record = {
        step: m.step,
        tokens: m.tokens,
        flops: m.flops,
        params,
        loss: m.loss,
        aux_loss: m.auxLoss,
        eval_loss: evaluated ? evalLoss : undefined,
        lr: m.lr,
        grad_norm: m.gradNorm,
        tokens_per_s: tokensPerSecond,
        wall_s: elapsed(),
      };
      fs.appendFileSync(paths.metrics, JSON.stringify(record) + '\n');
      onProgress?.(progress);
      // Let timers run between steps (progress output, signals): the step itself is synchronous.
      await new Promise((resolve) => setImmediate(resolve));
      if ((spec.checkpointEvery > 0 && m.step % spec.checkpointEvery === 0) || isLast) {
        save(paths.checkpoint, trainer, spec, tokenizer, elapsed(), trainLoss);
      }
    }
    if (Number.isNaN(evalLoss)) evalLoss = trainer.evaluate();
    const wallSeconds = elapsed();
    const runSeconds = (performance.now() - started) / 1000;
    return {
      outDir,
      checkpointDir: paths.checkpoint,
      steps: trainer.state.step,
      tokens: trainer.state.tokens,
      flops: trainer.state.flops,
      params,
      trainLoss,
      evalLoss,
      unigramEntropy: unigram,
      tokenizer: tokenizer.name,
      wallSeconds,
      tokensPerSecond: (trainer.state.tokens - startTokens) / Math.max(runSeconds, 1e-9),
    };
  } finally {
    trainer.dispose();
  }
}
