/**
 * A train stage run by an existing trainer (torchrun, accelerate, Megatron, transformers' Trainer, ...):
 * its command template is filled in and run on the stage's input checkpoint, a Hugging Face directory;
 * the model it leaves in its output directory becomes the stage's checkpoint, and its log (transformers'
 * trainer_state.json log_history, or a JSONL of step, tokens, loss) the stage's metrics.jsonl, with the
 * pipeline's token and FLOP counters and the pipeline's own held-out loss of the result, so the report
 * chains it with the other stages.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  appendMetrics,
  checkpointTokenizerFiles,
  copyOutput,
  countParams,
  flopsPerToken,
  initParams,
  loadModel,
  mismatch,
  paramShapes,
  readJsonObject,
  saveModel,
  splitTrainVal,
  tf,
  Trainer,
  TOKENIZER_FILE,
  transformCheckpoint,
  writeFileAtomic,
  type MetricsRecord,
  type RunResult,
} from '@efficientscale/core/node';
import type { PlannedStage } from './layout.js';
import { fromCheckpointDir } from './model.js';
import type { TrainStage } from './plan.js';
import { stageSpec } from './spec.js';
import { checkpointOf, clearStageDir } from './stage-dir.js';
import { fillTemplate } from './trainer-template.js';
import type { TrainContext } from './train-stage.js';

/** Runs `command` in a shell; its output goes to `logFile` (and to `echo`). Resolves to its exit code. */
function runCommand(command: string, logFile: string, echo?: (text: string) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const log = fs.createWriteStream(logFile);
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tee = (chunk: Buffer) => {
      log.write(chunk);
      echo?.(chunk.toString());
    };
    child.stdout.on('data', tee);
    child.stderr.on('data', tee);
    child.on('error', reject);
    child.on('close', (code, signal) => log.end(() => resolve(code ?? (signal ? 128 : 1))));
  });
}

const hasConfig = (dir: string) => fs.existsSync(path.join(dir, 'config.json'));

/** The model a trainer left: its output directory itself, our run layout's checkpoint/, or transformers' latest checkpoint-N/. */
function finalModelDir(output: string): string | undefined {
  if (hasConfig(output)) return output;
  if (hasConfig(path.join(output, 'checkpoint'))) return path.join(output, 'checkpoint');
  if (!fs.existsSync(output)) return undefined;
  const steps = fs.readdirSync(output).map((d) => /^checkpoint-(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => m !== null && hasConfig(path.join(output, m[0])));
  steps.sort((a, b) => Number(b[1]) - Number(a[1]));
  return steps.length ? path.join(output, steps[0][0]) : undefined;
}

/** One logged step of an external trainer: its own step (from 1), training loss, tokens seen if it counts them, and its own held-out loss. */
interface TrainerLogEntry {
  step: number;
  loss?: number;
  tokens?: number;
  evalLoss?: number;
}

/** transformers' trainer_state.json: log_history entries (training: loss; evaluation: eval_loss; num_input_tokens_seen if counted). */
function readHfLog(file: string): TrainerLogEntry[] {
  const history = readJsonObject(file).log_history;
  if (!Array.isArray(history)) throw mismatch(`${file}: "log_history"`, 'a list of logged steps (transformers\' trainer_state.json)', typeof history);
  return history.flatMap((e: Record<string, unknown>) => (typeof e?.step === 'number' ? [{ step: e.step, loss: num(e.loss), tokens: num(e.num_input_tokens_seen), evalLoss: num(e.eval_loss) }] : []));
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** A JSONL log: one object per line with step and loss, optionally tokens and eval_loss (our metrics.jsonl is one). */
function readJsonlLog(file: string): TrainerLogEntry[] {
  return fs.readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw mismatch(`${file} line ${i + 1}`, 'a JSON object with step and loss', JSON.stringify(line.slice(0, 40)));
    }
    return typeof e?.step === 'number' ? [{ step: e.step, loss: num(e.loss), tokens: num(e.tokens), evalLoss: num(e.eval_loss) }] : [];
  });
}

/** The trainer's log: the plan's "log" if it names one, else trainer_state.json (at the output or in its latest checkpoint-N/), else metrics.jsonl. */
function readTrainerLog(output: string, final: string, named: string | undefined): { file: string; entries: TrainerLogEntry[] } {
  const candidates = named ? [named] : [path.join(output, 'trainer_state.json'), path.join(final, 'trainer_state.json'), path.join(output, 'metrics.jsonl')];
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue;
    // Our own checkpoint's trainer_state.json has no log_history: it is not a log.
    if (file.endsWith('.json') && !named && !Array.isArray(readJsonObject(file).log_history)) continue;
    return { file, entries: file.endsWith('.json') ? readHfLog(file) : readJsonlLog(file) };
  }
  throw mismatch(`the trainer's output ${output}`, 'a log: trainer_state.json with log_history (transformers), a metrics.jsonl, or the stage\'s "log" naming one', 'none');
}

/** The stage's input: the previous stage's checkpoint, the plan's "from", or a fresh initialisation written as a Hugging Face directory. */
function stageInput(ctx: TrainContext, p: PlannedStage, previous: PlannedStage | undefined): string {
  const stage = p.stage as TrainStage;
  if (p.startStep > 0 && previous) return checkpointOf(previous.dir);
  if (stage.from !== undefined) return fromCheckpointDir(ctx.plan, stage);
  const dir = path.join(p.dir, 'input');
  const params = initParams(p.config, ctx.plan.seed);
  try {
    saveModel(dir, p.config, params, ctx.tokenizer);
  } finally {
    tf.dispose(Object.values(params));
  }
  return dir;
}

/** The pipeline's held-out loss of a checkpoint: its eval batches of the plan's corpus, as every train stage measures. */
async function heldOutLoss(ctx: TrainContext, p: PlannedStage, dir: string): Promise<number> {
  const spec = stageSpec(ctx.plan, p, ctx.corpus.source);
  const { train, val } = splitTrainVal(ctx.tokenizer.encode(ctx.corpus.text), spec.valFraction);
  const model = loadModel(dir);
  const trainer = Trainer.fromWeights(model.config, model.params, train, val, spec.trainer);
  tf.dispose(Object.values(model.params));
  try {
    return await trainer.evaluateAsync();
  } finally {
    trainer.dispose();
  }
}

export interface ExternalContext extends TrainContext {
  /** Where the trainer's own output is echoed (the CLI's stderr; nothing under --json). */
  echo?: (text: string) => void;
  /** Tokens and FLOPs the pipeline had counted before this stage. */
  before: { tokens: number; flops: number };
}

export async function runExternalStage(ctx: ExternalContext, p: PlannedStage, previous: PlannedStage | undefined): Promise<RunResult> {
  const stage = p.stage as TrainStage;
  const trainer = stage.trainer!;
  clearStageDir(p.dir); // an interrupted external stage runs again from its start
  fs.mkdirSync(p.dir, { recursive: true });
  const input = stageInput(ctx, p, previous);
  const output = path.join(p.dir, 'output');
  const lr = stage.lr ?? ctx.plan.lr;
  const values = { input: path.resolve(input), output: path.resolve(output), steps: p.steps, tokens: p.tokens, lr };
  const command = fillTemplate(trainer.command, values);
  const logFile = path.join(p.dir, 'trainer.log');
  const started = performance.now();
  const code = await runCommand(command, logFile, ctx.echo);
  const wallSeconds = (performance.now() - started) / 1000;
  const where = `stages[${p.index}] (train) trainer`;
  if (code !== 0) throw mismatch(where, 'a command that exits with 0', `exit code ${code} (its output: ${logFile})`);
  const final = finalModelDir(output);
  if (!final) throw mismatch(`${where} output ${output}`, 'a Hugging Face directory with config.json (or checkpoint-N/ holding one)', 'none');

  // The stage's checkpoint: the trainer's weights as they are stored, with the tokenizer (the input's if the trainer wrote none).
  const checkpoint = checkpointOf(p.dir);
  transformCheckpoint(final, checkpoint, ({ config }) => ({ config, outputs: Object.entries(paramShapes(config)).map(([name, shape]) => ({ ...copyOutput(name, name, shape), moment: undefined })), report: {} }), { stream: true });
  const config = readJsonObject(path.join(checkpoint, 'config.json')) as unknown as typeof p.config;
  if (!fs.existsSync(path.join(checkpoint, TOKENIZER_FILE))) {
    for (const [name, text] of Object.entries(checkpointTokenizerFiles(input, config))) writeFileAtomic(path.join(checkpoint, name), text);
  }

  // Its log in the pipeline's counters: steps after the stages before, tokens and FLOPs cumulative.
  const log = readTrainerLog(output, final, trainer.log === undefined ? undefined : path.resolve(fillTemplate(trainer.log, values, false)));
  // transformers logs training and evaluation as separate entries of one step: one entry per step.
  const byStep = new Map<number, TrainerLogEntry>();
  for (const e of log.entries) {
    const had = byStep.get(e.step);
    byStep.set(e.step, { step: e.step, loss: e.loss ?? had?.loss, tokens: e.tokens ?? had?.tokens, evalLoss: e.evalLoss ?? had?.evalLoss });
  }
  const entries = [...byStep.values()].filter((e) => e.loss !== undefined).sort((a, b) => a.step - b.step);
  if (entries.length === 0) throw mismatch(log.file, 'at least one logged step with a training loss', 'none');
  const tokensPerStep = p.tokens / p.steps;
  const flopsPerTokenTrain = flopsPerToken(config, ctx.plan.seq).trainPerToken;
  const params = countParams(config);
  const evalLoss = await heldOutLoss(ctx, p, checkpoint);
  const records: MetricsRecord[] = entries.map((e) => {
    const tokens = e.tokens ?? e.step * tokensPerStep;
    return { step: p.startStep + e.step, tokens: ctx.before.tokens + tokens, flops: ctx.before.flops + tokens * flopsPerTokenTrain, params, loss: e.loss!, ...(e.evalLoss !== undefined ? { trainer_eval_loss: e.evalLoss } : {}) };
  });
  const last = records[records.length - 1];
  // The stage's tokens: what the trainer says it saw by its last step, else the plan's (steps × batch × seq).
  const seen = last.step === p.startStep + p.steps && entries[entries.length - 1].tokens !== undefined ? last.tokens - ctx.before.tokens : p.tokens;
  const end = { tokens: ctx.before.tokens + seen, flops: ctx.before.flops + seen * flopsPerTokenTrain };
  // The held-out loss on the plan's corpus after the stage: the point the report chains.
  if (last.step === p.startStep + p.steps) Object.assign(last, { eval_loss: evalLoss, ...end });
  else records.push({ step: p.startStep + p.steps, ...end, params, loss: last.loss, eval_loss: evalLoss });
  const metrics = path.join(p.dir, 'metrics.jsonl');
  for (const r of records) appendMetrics(metrics, r);
  return {
    outDir: p.dir,
    checkpointDir: checkpoint,
    steps: p.startStep + p.steps,
    tokens: end.tokens,
    flops: end.flops,
    params,
    trainLoss: last.loss,
    evalLoss,
    unigramEntropy: NaN,
    tokenizer: ctx.tokenizer.name,
    wallSeconds,
    tokensPerSecond: seen / Math.max(wallSeconds, 1e-9),
  };
}
