import * as fs from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { mismatch } from '../errors.js';
import { parseJsonObject } from '../io/read.js';
import { dimsOf, validateConfig, type ModelConfig } from '../model/config.js';
import { checkParams, countParams, paramShapes } from '../model/params.js';
import { checkOptimizerTensors, checkSamplerReplay, checkTrainerState, type CheckedTrainerState } from '../io/trainer-state.js';
import { fromRaw, mapValues, toRaw } from '../model/raw.js';
import { prefetchToHost } from '../host.js';
import { loadCheckpointFiles, readCheckpointText, RUN_CHECKPOINT_DIR, saveCheckpoint } from '../io/checkpoint.js';
import { assertFinite } from '../io/nonfinite.js';
import { recoverInterruptedDirSwap, removeStaleTempFiles, writeFileAtomic } from '../io/atomic.js';
import { assertNewOutputDir, makeDirs } from '../io/output-path.js';
import { assertTrainingFits } from './memory-check.js';
import { assertHeldOutBatch, splitTrainVal } from '../data/batches.js';
import type { Tokenizer } from '../data/tokenizer.js';
import { tokenizerFromJSON } from '../data/load-tokenizer.js';
import { checkpointTokenizer, tokenizerForCheckpoint } from '../hf/tokenizer-files.js';
import { readHfConfig } from '../hf/load-model.js';
import { disposeStartingPoint, loadStartingPoint } from './init-from.js';
import { appendMetrics, type MetricsRecord } from './metrics.js';
import { unigramEntropy } from '../data/unigram.js';
import { Trainer, type StepMetrics, type TrainerOptions, type TrainerState } from './trainer.js';
import { checkGrowthRecord, growAt, startGrowth, type GrowFn, type GrowthRecord, type ScheduledGrowth } from './growth.js';
import type { ScheduleSpec } from './schedule.js';

/** Everything a run was started with; stored in trainer_state.json so `--resume DIR` needs nothing else. */
export interface RunSpec {
  totalSteps: number;
  trainer: TrainerOptions;
  valFraction: number;
  evalEvery: number;
  checkpointEvery: number;
  /** The corpus's source (Corpus.source: "embedded" or a file's absolute path): eval and resume read it again. */
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
  checkpoint: path.join(outDir, RUN_CHECKPOINT_DIR),
});

/**
 * What a checkpoint was trained with: its tokenizer (`explicit` if given, else the checkpoint's own; see
 * tokenizerForCheckpoint), its held-out fraction and corpus source (from trainer_state.json; a checkpoint
 * without one, such as a transformers checkpoint, gets 2% and no corpus).
 */
export function readRunInfo(checkpointDir: string, explicit?: Tokenizer): { tokenizer: Tokenizer; valFraction: number; corpus?: string } {
  const tokenizer = tokenizerForCheckpoint(checkpointDir, explicit);
  const text = readCheckpointText(checkpointDir, 'trainer_state.json');
  if (!text) return { tokenizer, valFraction: 0.02 };
  const stored = parseJsonObject(text, `${checkpointDir}/trainer_state.json`) as Partial<StoredTrainerState>;
  return { tokenizer, valFraction: stored.spec?.valFraction ?? 0.02, corpus: stored.spec?.corpus };
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
  /** Length of the training split, so a resume on another corpus is refused instead of silently differing. */
  trainTokens: number;
  /** The growth schedule of a progressive run and the growths done so far. */
  growth?: GrowthRecord;
}

function save(dir: string, trainer: Trainer, spec: RunSpec, tokenizer: Tokenizer, wallSeconds: number, lastTrainLoss: number, trainTokens: number, growth?: GrowthRecord): void {
  const state: StoredTrainerState = {
    format: 'efficientscale-trainer-1',
    ...trainer.state,
    optimizerStep: trainer.optimizer.step,
    wallSeconds,
    spec,
    tokenizer: tokenizer.toJSON(),
    lastTrainLoss,
    trainTokens,
    ...(growth ? { growth } : {}),
  };
  const params = mapValues(trainer.params, toRaw);
  const optimizer = mapValues(trainer.optimizer.stateTensors(), toRaw);
  // A checkpoint with NaN/Inf would poison every resume; the previous good one stays in place instead.
  const hint = ` (step ${trainer.state.step} diverged; the previous checkpoint is kept — lower the learning rate)`;
  assertFinite(params, 'weights to checkpoint', hint);
  assertFinite(optimizer, 'optimizer moments to checkpoint', hint);
  saveCheckpoint(dir, { config: trainer.config, params, optimizer, trainerState: state, tokenizer });
}

export interface StartOptions {
  outDir: string;
  text: string;
  /** The tokenizer; with `initFrom`, the checkpoint's own when omitted (see tokenizerForCheckpoint). */
  tokenizer?: Tokenizer;
  /** The model, initialised from `spec.trainer.seed`; or */
  config?: ModelConfig;
  /**
   * a run or checkpoint directory whose config, weights and (when it has them) AdamW moments the run starts
   * from, with its counters at 0 (loadStartingPoint).
   */
  initFrom?: string;
  spec: RunSpec;
  onProgress?: (p: Progress) => void;
  /** Stop early (e.g. after half the steps, to test resume). */
  stopAfter?: number;
  betweenSteps?: BetweenSteps;
  /** Progressive training: grow the model at these steps (the schedule is stored for resume). */
  growth?: { schedule: ScheduledGrowth[]; grow: GrowFn };
}

/**
 * Called before the first step and after every step (before eval and checkpoint): lets a technique change
 * the model between steps (a schedule in `trainer.config`, `trainer.replaceModel`) without core knowing it.
 */
export type BetweenSteps = (trainer: Trainer, spec: RunSpec) => void;

export interface ContinueOptions {
  outDir: string;
  /** Checkpoint to continue from (defaults to the run dir's own). */
  from?: string;
  text: string;
  onProgress?: (p: Progress) => void;
  stopAfter?: number;
  /** Continue to this many total steps instead of the stored total. */
  totalSteps?: number;
  /**
   * New settings from here on (a pipeline's next stage): the step, token and FLOP counters, the AdamW moments
   * and the data position carry on; the schedule, total and eval/checkpoint cadence are these, and the wall
   * clock restarts. The batch shape, seed and held-out fraction must stay (the data position depends on
   * them). A checkpoint without moments (a transform that cannot carry them) continues with zero moments.
   */
  spec?: RunSpec;
  betweenSteps?: BetweenSteps;
  /** Applies the stored growth schedule's stages (needed when growths are still to come). */
  grow?: GrowFn;
  /** Called with the validated trainer_state.json before anything loads (e.g. to refuse settings it keeps). */
  onState?: (state: CheckedTrainerState) => void;
}

/**
 * Throws unless `outDir` is absent or empty: a fresh run never overwrites a run, nor appends to the
 * stale metrics.jsonl of one that died before its first checkpoint.
 */
export function assertNewRunDir(outDir: string): void {
  if (fs.existsSync(runPaths(outDir).checkpoint)) {
    throw mismatch(`--out ${outDir}`, 'a new or empty run directory (use --resume to continue)', 'an existing checkpoint');
  }
  const isDir = fs.existsSync(outDir) && fs.statSync(outDir).isDirectory();
  assertNewOutputDir(outDir, { kind: 'run directory', hint: isDir ? ' (this one has no checkpoint to resume from)' : '' });
}

/**
 * Cuts metrics.jsonl back to the records of steps 1..`step`, atomically, so each step is logged once
 * after a resume. Torn or unreadable lines (a kill during a write) go too.
 */
export function truncateMetrics(file: string, step: number): void {
  if (!fs.existsSync(file)) return;
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((line) => line.trim() !== '');
  const kept = lines.filter((line) => {
    try {
      const record = JSON.parse(line) as { step?: unknown };
      return typeof record.step === 'number' && record.step <= step;
    } catch {
      return false;
    }
  });
  if (kept.length === lines.length) return;
  writeFileAtomic(file, kept.map((line) => line + '\n').join(''));
}

/**
 * Starts a new training run in `outDir` (refusing to overwrite a run): from a seeded initialisation of
 * `config`, or from the weights (and moments) of the checkpoint `initFrom`, at step 0 either way.
 */
export async function startRun(o: StartOptions): Promise<RunResult> {
  if ((o.config === undefined) === (o.initFrom === undefined)) throw new Error('startRun: expected exactly one of config and initFrom');
  assertNewRunDir(o.outDir);
  const fromDir = o.initFrom === undefined ? undefined : resolveCheckpointDir(o.initFrom);
  const config = fromDir === undefined ? o.config! : readHfConfig(fromDir);
  const tokenizer = fromDir === undefined ? o.tokenizer : tokenizerForCheckpoint(fromDir, o.tokenizer);
  if (!tokenizer) throw new Error('startRun: expected a tokenizer beside config');
  if (config.vocab_size < tokenizer.vocabSize) {
    throw mismatch('config "vocab_size"', `at least the ${tokenizer.name} tokenizer's ${tokenizer.vocabSize} tokens`, String(config.vocab_size));
  }
  // Refused here, not at the first step's forward pass ("input tokens: ..."), as resume does.
  const { maxPositions } = dimsOf(config);
  if (o.spec.trainer.seqLen > maxPositions) throw mismatch('sequence length (--seq)', `at most the config's max_position_embeddings (${maxPositions})`, String(o.spec.trainer.seqLen));
  assertTrainingFits(config, o.spec.trainer.batchSize, o.spec.trainer.seqLen);
  const ids = tokenizer.encode(o.text);
  assertHeldOutBatch(ids.length, o.spec.valFraction, o.spec.trainer.batchSize, o.spec.trainer.seqLen, o.spec.corpus);
  const { train, val } = splitTrainVal(ids, o.spec.valFraction);
  const growth = o.growth && { record: startGrowth(o.growth.schedule, o.spec.totalSteps), grow: o.growth.grow };
  let trainer: Trainer;
  if (fromDir === undefined) trainer = Trainer.fresh(config, train, val, o.spec.trainer);
  else {
    const start = loadStartingPoint(fromDir);
    try {
      trainer = Trainer.fromWeights(start.config, start.params, train, val, o.spec.trainer, start.optimizer, start.optimizerStep);
    } finally {
      disposeStartingPoint(start);
    }
  }
  return loop(trainer, o.outDir, o.spec, tokenizer, unigramEntropy(train, tokenizer.vocabSize), 0, NaN, train.length, o.onProgress, o.stopAfter, o.betweenSteps, growth);
}

/** The settings a new leg (ContinueOptions.spec) may not change: the data position depends on them. */
function checkSameDataPosition(stored: RunSpec, next: RunSpec, stateFile: string): void {
  const fields: Array<[string, unknown, unknown]> = [
    ['spec.trainer.batchSize', stored.trainer.batchSize, next.trainer.batchSize],
    ['spec.trainer.seqLen', stored.trainer.seqLen, next.trainer.seqLen],
    ['spec.trainer.accumulation', stored.trainer.accumulation, next.trainer.accumulation],
    ['spec.trainer.seed', stored.trainer.seed, next.trainer.seed],
    ['spec.valFraction', stored.valFraction, next.valFraction],
  ];
  for (const [field, was, now] of fields) {
    if (was !== now) throw mismatch(`continuing ${stateFile}: "${field}"`, `${String(was)} as before (the data position carries on)`, String(now));
  }
}

/**
 * Continues a run from its checkpoint: same data position, optimizer moments and counters; the same
 * schedule unless `spec` gives the next leg's.
 */
export async function continueRun(o: ContinueOptions): Promise<RunResult> {
  for (const dir of new Set([o.outDir, o.from ?? o.outDir])) {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw mismatch(dir, 'a run directory (or a checkpoint directory) to resume', 'a file');
  }
  recoverInterruptedDirSwap(runPaths(o.outDir).checkpoint); // a kill mid-save left checkpoint/ renamed aside
  removeStaleTempFiles(o.outDir); // a kill mid-write left loss.svg.tmp-* or metrics.jsonl.tmp-*
  const dir = resolveCheckpointDir(o.from ?? o.outDir);
  const files = loadCheckpointFiles(dir);
  const stateFile = path.join(dir, 'trainer_state.json');
  const weightsOnly = ' (to start a new run from its weights: --init-from)';
  if (!files.trainerState) throw mismatch(stateFile, `a trainer state written by efficientscale train${weightsOnly}`, 'no such file');
  const checked = checkTrainerState(files.trainerState, stateFile);
  o.onState?.(checked);
  const stored = checked as unknown as StoredTrainerState;
  if (!files.optimizer && !o.spec) throw mismatch(dir, `optimizer.safetensors to resume from${weightsOnly}`, 'no such file');
  const config = validateConfig(files.config, path.join(dir, 'config.json'));
  checkParams(config, files.params, `${dir}/model.safetensors`);
  // A new leg without moments (after a transform that could not carry them) starts them at zero on purpose.
  const moments = files.optimizer ?? {};
  if (files.optimizer) checkOptimizerTensors(moments, paramShapes(config), path.join(dir, 'optimizer.safetensors'));
  const growth = checkGrowthRecord(stored.growth, stored.step, stateFile);
  if (growth && growth.done.length < growth.schedule.length && !o.grow) throw mismatch(`${stateFile}: "growth"`, 'no growths to come (or a grow function to apply them)', `${growth.schedule.length - growth.done.length} to come`);
  const { maxPositions } = dimsOf(config);
  if (stored.spec.trainer.seqLen > maxPositions) {
    throw mismatch(`${stateFile}: "spec.trainer.seqLen"`, `at most max_position_embeddings (${maxPositions})`, String(stored.spec.trainer.seqLen));
  }
  const tokenizer = checkpointTokenizer(dir) ?? tokenizerFromJSON(stored.tokenizer);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw mismatch(`${stateFile}: "tokenizer"`, `a tokenizer of at most vocab_size (${config.vocab_size}) tokens`, `${tokenizer.name} (${tokenizer.vocabSize})`);
  }
  if (o.spec) checkSameDataPosition(stored.spec, o.spec, stateFile);
  const spec: RunSpec = { ...(o.spec ?? stored.spec) };
  if (o.totalSteps !== undefined) {
    spec.totalSteps = o.totalSteps;
    if ('total' in spec.trainer.schedule) spec.trainer = { ...spec.trainer, schedule: { ...spec.trainer.schedule, total: o.totalSteps } as ScheduleSpec };
  }
  // Nothing to train would leave no metrics and no checkpoint in the run directory.
  if (spec.totalSteps <= stored.step) throw mismatch('steps to train to (--steps)', `more than the checkpoint's ${stored.step} steps`, String(spec.totalSteps));
  assertTrainingFits(config, spec.trainer.batchSize, spec.trainer.seqLen);
  const ids = tokenizer.encode(o.text);
  const { train, val } = splitTrainVal(ids, spec.valFraction);
  if (stored.trainTokens !== undefined && stored.trainTokens !== train.length) {
    throw mismatch('resume corpus', `a training split of ${stored.trainTokens} tokens (as when the checkpoint was written)`, `${train.length} tokens (a different corpus?)`);
  }
  checkSamplerReplay(stored, train.length, stateFile);
  const params = mapValues(files.params, fromRaw);
  const optimizer = mapValues(moments, fromRaw);
  const trainer = new Trainer(config, params, train, val, spec.trainer, { state: stored, optimizer, optimizerStep: stored.optimizerStep });
  trainer.lrScale = { ...growth?.lrScale };
  tf.dispose([...Object.values(params), ...Object.values(optimizer)]);
  // Steps logged after this checkpoint (a run killed between checkpoints) are about to be redone.
  truncateMetrics(runPaths(o.outDir).metrics, stored.step);
  const wallBefore = o.spec ? 0 : stored.wallSeconds;
  return loop(trainer, o.outDir, spec, tokenizer, unigramEntropy(train, tokenizer.vocabSize), wallBefore, stored.lastTrainLoss ?? NaN, train.length, o.onProgress, o.stopAfter, o.betweenSteps, growth && { record: growth, grow: o.grow });
}

async function loop(
  trainer: Trainer,
  outDir: string,
  spec: RunSpec,
  tokenizer: Tokenizer,
  unigram: number,
  wallBefore: number,
  lastLoss: number,
  trainTokens: number,
  onProgress?: (p: Progress) => void,
  stopAfter?: number,
  betweenSteps?: BetweenSteps,
  growth?: { record: GrowthRecord; grow?: GrowFn },
): Promise<RunResult> {
  const paths = runPaths(outDir);
  makeDirs(outDir, `--out ${outDir}`);
  let params = countParams(trainer.config);
  const started = performance.now();
  const startStep = trainer.state.step;
  const startTokens = trainer.state.tokens;
  const end = Math.min(spec.totalSteps, stopAfter ?? Infinity);
  let trainLoss = lastLoss;
  let evalLoss = NaN;
  const elapsed = () => wallBefore + (performance.now() - started) / 1000;
  try {
    betweenSteps?.(trainer, spec);
    while (trainer.state.step < end) {
      if (growth && (await growAt(trainer, growth.record, growth.grow))) params = countParams(trainer.config);
      const m = await trainer.stepAsync();
      if (betweenSteps) {
        betweenSteps(trainer, spec);
        params = countParams(trainer.config); // the hook may have swapped the model (self-guided: W dropped)
      }
      trainLoss = m.loss;
      const isLast = trainer.state.step === end;
      const evaluated = (spec.evalEvery > 0 && m.step % spec.evalEvery === 0) || isLast;
      if (evaluated) evalLoss = await trainer.evaluateAsync();
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
      const record: MetricsRecord = {
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
        ffn_metrics: m.ffnMetrics,
      };
      appendMetrics(paths.metrics, record);
      onProgress?.(progress);
      // Let timers run between steps (progress output, signals): the step itself is synchronous.
      await new Promise((resolve) => setImmediate(resolve));
      if ((spec.checkpointEvery > 0 && m.step % spec.checkpointEvery === 0) || isLast) {
        await prefetchToHost([...Object.values(trainer.params), ...Object.values(trainer.optimizer.stateTensors())]);
        save(paths.checkpoint, trainer, spec, tokenizer, elapsed(), trainLoss, trainTokens, growth?.record);
      }
    }
    if (Number.isNaN(evalLoss)) evalLoss = await trainer.evaluateAsync();
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
