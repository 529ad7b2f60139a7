import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { loadModel, saveModel } from '../model/load.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { continueRun, runPaths, startRun, type RunResult, type RunSpec } from './run.js';
import { defaultAdamW } from './adamw.js';

/** Core's run lifecycle: a new run from given weights (startRun initFrom) and a run continued under new settings (continueRun spec). */
const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 32, layers: 1, heads: 2, maxPositions: 64 });
const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(40);
const spec = (steps: number, lr = 1e-2, batchSize = 2): RunSpec => ({
  totalSteps: steps,
  valFraction: 0.1,
  evalEvery: steps,
  checkpointEvery: steps,
  corpus: 'embedded',
  trainer: { batchSize, seqLen: 16, accumulation: 1, schedule: { kind: 'constant', lr, warmup: 0 }, adamw: defaultAdamW, clipNorm: 1, seed: 3, evalBatches: 2 },
});
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'es-lifecycle-'));
const state = (run: string) => JSON.parse(fs.readFileSync(path.join(runPaths(run).checkpoint, 'trainer_state.json'), 'utf8'));
const moments = (run: string) => readSafetensors(path.join(runPaths(run).checkpoint, 'optimizer.safetensors')).tensors;
const source = path.join(root, 'source');
let trained: RunResult;

function refusal(fn: () => Promise<unknown>): Promise<string> {
  return fn().then(
    () => {
      throw new Error('accepted');
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(UserError);
      return (err as Error).message;
    },
  );
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  trained = await startRun({ outDir: source, text, tokenizer: new ByteTokenizer(), config, spec: spec(3) });
});

describe('startRun initFrom: a new run from a checkpoint\'s weights', () => {
  it('takes the weights and the AdamW moments with their Adam step; step, tokens and FLOPs start at 0', async () => {
    const run = path.join(root, 'from-run');
    // lr too small to move the weights: the first evaluation is the source's.
    const result = await startRun({ outDir: run, text, initFrom: source, spec: spec(1, 1e-9) });
    expect(result.evalLoss).toBeCloseTo(trained.evalLoss, 5);
    expect(result).toMatchObject({ steps: 1, tokens: 32, tokenizer: 'byte' });
    expect(state(run)).toMatchObject({ step: 1, tokens: 32, optimizerStep: 4 }); // the source's 3 Adam steps carry on
    const metrics = fs.readFileSync(runPaths(run).metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([1]);
    expect(metrics[0].flops).toBe(result.flops);
  });

  it('a weights-only checkpoint starts its moments at zero and Adam at step 0, with the tokenizer in the directory', async () => {
    const model = loadModel(runPaths(source).checkpoint);
    const weightsOnly = path.join(root, 'weights-only');
    saveModel(weightsOnly, model.config, model.params, runPaths(source).checkpoint);
    tf.dispose(Object.values(model.params));
    const [warm, cold] = [path.join(root, 'warm'), path.join(root, 'cold')];
    await startRun({ outDir: warm, text, initFrom: source, spec: spec(1) });
    const r = await startRun({ outDir: cold, text, initFrom: weightsOnly, spec: spec(1) });
    expect(r.tokenizer).toBe('byte');
    expect(state(cold)).toMatchObject({ step: 1, optimizerStep: 1 });
    // Same weights and batch: only the carried moments make the warm run's moments differ.
    const [w, c] = [moments(warm), moments(cold)];
    const key = 'v.model.layers.0.mlp.up_proj.weight';
    const gap = Math.max(...Array.from(w[key].data as Float32Array, (v, i) => Math.abs(v - (c[key].data as Float32Array)[i])));
    expect(gap).toBeGreaterThan(1e-7);
  });

  it('refuses a directory without a checkpoint in one line, and writes nothing', async () => {
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const message = await refusal(() => startRun({ outDir: path.join(root, 'never'), text, initFrom: empty, spec: spec(1) }));
    expect(message).toMatch(/empty: expected a checkpoint directory containing config\.json, found no config\.json/);
    expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
  });
});

describe('continueRun', () => {
  it('with a new spec continues counters, moments and data position under the new settings, its wall clock from 0', async () => {
    // A source that says it trained for 1000 s: a plain resume counts on from there, a new leg from 0.
    const old = path.join(root, 'old');
    fs.cpSync(runPaths(source).checkpoint, old, { recursive: true });
    const oldState = JSON.parse(fs.readFileSync(path.join(old, 'trainer_state.json'), 'utf8'));
    fs.writeFileSync(path.join(old, 'trainer_state.json'), JSON.stringify({ ...oldState, wallSeconds: 1000 }));
    const run = path.join(root, 'next-leg');
    const next = { ...spec(5, 5e-3), evalEvery: 1 };
    const result = await continueRun({ outDir: run, from: old, text, spec: next });
    expect(result).toMatchObject({ steps: 5, tokens: 5 * 32 });
    const s = state(run);
    expect(s).toMatchObject({ step: 5, optimizerStep: 5, spec: next });
    expect(s.wallSeconds).toBeLessThan(1000);
    const resumed = await continueRun({ outDir: path.join(root, 'same-leg'), from: old, text, totalSteps: 4 });
    expect(resumed.wallSeconds).toBeGreaterThan(1000);
    const metrics = fs.readFileSync(runPaths(run).metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.map((m) => m.step)).toEqual([4, 5]);
    expect(metrics[0].lr).toBe(5e-3);
  });

  it('a new spec may not change the batch shape or seed (the data position depends on them)', async () => {
    const message = await refusal(() => continueRun({ outDir: path.join(root, 'bigger'), from: runPaths(source).checkpoint, text, spec: spec(5, 1e-2, 4) }));
    expect(message).toMatch(/"spec\.trainer\.batchSize": expected 2 as before \(the data position carries on\), found 4/);
  });

  it('refuses a total at or below the checkpoint\'s step, writing nothing (it used to crash on the missing metrics.jsonl)', async () => {
    const copy = path.join(root, 'copy');
    fs.cpSync(runPaths(source).checkpoint, copy, { recursive: true });
    const before = fs.readdirSync(copy).sort();
    const message = await refusal(() => continueRun({ outDir: copy, text, totalSteps: 2 }));
    expect(message).toBe("steps to train to (--steps): expected more than the checkpoint's 3 steps, found 2");
    expect(fs.readdirSync(copy).sort()).toEqual(before);
  });

  it('a checkpoint without moments or trainer state is not resumed: the message points to initFrom', async () => {
    const weightsOnly = path.join(root, 'weights-only');
    expect(await refusal(() => continueRun({ outDir: path.join(root, 'x'), from: weightsOnly, text }))).toMatch(/trainer_state\.json: expected a trainer state written by efficientscale train \(to start a new run from its weights: --init-from\), found no such file/);
    const noMoments = path.join(root, 'no-moments');
    fs.cpSync(runPaths(source).checkpoint, noMoments, { recursive: true });
    fs.rmSync(path.join(noMoments, 'optimizer.safetensors'));
    expect(await refusal(() => continueRun({ outDir: path.join(root, 'y'), from: noMoments, text }))).toMatch(/expected optimizer\.safetensors to resume from \(to start a new run from its weights: --init-from\)/);
    // As a next leg (a pipeline stage after a low-rank transform), the moments start at zero.
    const leg = await continueRun({ outDir: path.join(root, 'z'), from: noMoments, text, spec: spec(4) });
    expect(leg.steps).toBe(4);
  });
});
