import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteTokenizer, defaultAdamW, llamaConfig, loadModel, readSafetensors, saveModel, startRun, tf, UserError, type RunResult, type RunSpec } from '@efficientscale/core/node';
import { layoutStages } from './layout.js';
import { parsePlan } from './plan.js';
import { runPipeline } from './run.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pipeline-from-'));
const words = 'the jury said it did find that many of the city laws were outdated and should be revised by the council'.split(' ');
const corpus = Array.from({ length: 1500 }, (_, i) => words[(i * 7 + (i >> 3)) % words.length]).join(' ');
const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 64 });
const settings = { batch: 2, seq: 16, evalBatches: 2, evalsPerStage: 1, checkpointsPerStage: 1 };

function spec(steps: number): RunSpec {
  return {
    totalSteps: steps,
    valFraction: 0.02,
    evalEvery: steps,
    checkpointEvery: steps,
    corpus: 'corpus.txt',
    trainer: { batchSize: 2, seqLen: 16, accumulation: 1, schedule: { kind: 'constant', lr: 0.01, warmup: 0 }, adamw: { ...defaultAdamW, weightDecay: 0.01 }, clipNorm: 1, seed: 0, evalBatches: 2 },
  };
}

/** A plan next to corpus.txt whose first stage continues `from` for one step at a learning rate too small to move the loss. */
function planFrom(name: string, from: string, extra: object = {}) {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'corpus.txt'), corpus);
  const plan = { corpus: 'corpus.txt', out: path.join(dir, 'out'), ...settings, schedule: { kind: 'constant' }, stages: [{ type: 'train', from, steps: 1, lr: 1e-9, ...extra }, { type: 'baseline', lr: 1e-9 }] };
  return parsePlan(plan, 'plan.json', dir);
}

function refusal(plan: ReturnType<typeof planFrom>): string {
  try {
    layoutStages(plan);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('the plan was accepted');
}

describe('a plan whose first stage starts from a checkpoint', () => {
  let trained: RunResult;
  const runDir = path.join(root, 'run');
  beforeAll(async () => {
    await tf.setBackend('cpu');
    trained = await startRun({ outDir: runDir, text: corpus, tokenizer: new ByteTokenizer(), config, spec: spec(2) });
  });

  it('continues the run\'s weights and moments: its first evaluation is the checkpoint\'s eval loss, its counters start at 0', async () => {
    const plan = planFrom('run-dir', '../run');
    const result = await runPipeline(plan, { log: () => {} });
    expect(result.complete).toBe(true);
    const first = result.stages[0];
    expect(first.eval_loss!).toBeCloseTo(trained.evalLoss, 4);
    expect(first.tokens_end).toBe(32);
    expect(Math.abs(first.eval_loss! - result.stages[1].eval_loss!)).toBeGreaterThan(0.05); // a fresh model is elsewhere
    const state = JSON.parse(fs.readFileSync(path.join(plan.out, '01-train', 'checkpoint', 'trainer_state.json'), 'utf8')) as { step: number; optimizerStep: number };
    // the run's 2 Adam steps carry on (bias correction as if uninterrupted), the stage's own counters from 0
    expect(state).toMatchObject({ step: 1, optimizerStep: 3 });
  });

  it('starts a Hugging Face directory (weights only) with zero moments', async () => {
    const model = loadModel(path.join(runDir, 'checkpoint'));
    saveModel(path.join(root, 'hf'), model.config, model.params, path.join(runDir, 'checkpoint'));
    tf.dispose(Object.values(model.params));
    const plan = planFrom('hf-dir', '../hf');
    const result = await runPipeline(plan, { log: () => {} });
    expect(result.stages[0].eval_loss!).toBeCloseTo(trained.evalLoss, 4);
    const state = JSON.parse(fs.readFileSync(path.join(root, 'hf-dir', 'out', '01-train', 'checkpoint', 'trainer_state.json'), 'utf8'));
    expect(state).toMatchObject({ step: 1, optimizerStep: 1 }); // fresh moments: Adam counts from 0
    // Same weights, same first batch: only the run's carried moments make the first stage's moments differ.
    const moments = (name: string) => readSafetensors(path.join(root, name, 'out', '01-train', 'checkpoint', 'optimizer.safetensors')).tensors;
    const [warm, cold] = [moments('run-dir'), moments('hf-dir')];
    const key = Object.keys(cold).find((k) => k in warm)!;
    expect(key).toBeDefined();
    const gap = Math.max(...Array.from(warm[key].data as Float32Array, (v, i) => Math.abs(v - (cold[key].data as Float32Array)[i])));
    expect(gap).toBeGreaterThan(1e-6);
  });

  it('refuses "from" beside a model, and a directory that is missing or holds no checkpoint, with one line naming it', () => {
    expect(refusal(planFrom('both', '../run', { model: { hidden: 16, layers: 1, heads: 2, ffn: 32 } }))).toContain('stages[0] (train): expected exactly one of "preset", "model", "config", "from" (the model to start from), found model and from');
    expect(refusal(planFrom('missing', '../nowhere'))).toContain(`stages[0].from ${path.join(root, 'nowhere')}: expected a run or checkpoint directory, found nothing readable at that path`);
    fs.mkdirSync(path.join(root, 'empty'), { recursive: true });
    expect(refusal(planFrom('empty', '../empty'))).toContain('found no config.json');
  });

  it('refuses "from" on a later train stage', () => {
    const dir = path.join(root, 'later');
    const plan = parsePlan({ out: path.join(dir, 'out'), ...settings, stages: [{ type: 'train', model: { hidden: 16, layers: 1, heads: 2, ffn: 32 }, steps: 1 }, { type: 'train', from: '../run', steps: 1 }] }, 'plan.json', dir);
    expect(refusal(plan)).toContain('stages[1] (train).from: expected nothing');
  });
});
