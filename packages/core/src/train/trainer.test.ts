import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig } from '../model/config.js';
import { initParams } from '../model/params.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { readSafetensors, writeSafetensors } from '../io/safetensors-fs.js';
import { splitTrainVal } from '../data/batches.js';
import { Trainer } from './trainer.js';
import { continueRun, runPaths, startRun, type RunSpec } from './run.js';
import { defaultAdamW } from './adamw.js';

const config = llamaConfig({ vocab: 256, hidden: 16, ffn: 40, layers: 2, heads: 4, kvHeads: 2, maxPositions: 64 });
const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(40);
const spec = (steps: number): RunSpec => ({
  totalSteps: steps,
  valFraction: 0.1,
  evalEvery: 3,
  checkpointEvery: 2,
  corpus: 'test',
  trainer: {
    batchSize: 2,
    seqLen: 16,
    accumulation: 2,
    schedule: { kind: 'cosine', lr: 1e-2, warmup: 2, total: steps },
    adamw: defaultAdamW,
    clipNorm: 1,
    seed: 7,
    evalBatches: 2,
  },
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-train-'));
const weights = (dir: string) => readSafetensors(path.join(runPaths(dir).checkpoint, 'model.safetensors')).tensors;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Trainer', () => {
  it('lowers the loss and keeps the tensor count flat across steps', () => {
    const ids = new ByteTokenizer().encode(text);
    const { train, val } = splitTrainVal(ids, 0.1);
    const trainer = Trainer.fresh(config, train, val, spec(12).trainer);
    const first = trainer.step();
    const after1 = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 11; i++) last = trainer.step();
    expect(tf.memory().numTensors).toBe(after1);
    trainer.evaluate();
    expect(tf.memory().numTensors).toBe(after1);
    expect(last.loss).toBeLessThan(first.loss - 0.5);
    expect(last.tokens).toBe(12 * 2 * 16 * 2);
    trainer.dispose();
  });

  it('replaceModel swaps in a new model mid-run, keeping step, tokens, data position and LR schedule', () => {
    const ids = new ByteTokenizer().encode(text);
    const { train, val } = splitTrainVal(ids, 0.1);
    const trainer = Trainer.fresh(config, train, val, spec(6).trainer);
    trainer.step();
    trainer.step();
    const wider = llamaConfig({ vocab: 256, hidden: 16, ffn: 64, layers: 2, heads: 4, kvHeads: 2, maxPositions: 64 });
    const fresh = initParams(wider, 1);
    const before = { step: trainer.state.step, tokens: trainer.state.tokens, drawn: trainer.sampler.state.drawn };
    trainer.replaceModel(wider, fresh);
    tf.dispose(Object.values(fresh));
    expect(trainer.state.step).toBe(before.step);
    expect(trainer.optimizer.step).toBe(2);
    const m = trainer.step();
    expect(m.step).toBe(3);
    expect(m.tokens).toBe(before.tokens + 2 * 16 * 2);
    expect(trainer.sampler.state.drawn).toBe(before.drawn + 2);
    expect(trainer.params['model.layers.0.mlp.up_proj.weight'].shape).toEqual([64, 16]);
    const counted = tf.memory().numTensors;
    trainer.step();
    expect(tf.memory().numTensors).toBe(counted);
    expect(() => trainer.replaceModel(wider, {})).toThrowError(/expected weight "model.embed_tokens.weight"/);
    expect(trainer.step().step).toBe(5); // the rejected model left the current one in place
    trainer.dispose();
  });

  it('N steps straight equal N/2 + checkpoint + resume + N/2, bit for bit', async () => {
    const straight = tmp();
    const split = tmp();
    const tokenizer = new ByteTokenizer();
    const full = await startRun({ outDir: straight, text, tokenizer, config, spec: spec(8) });
    const half = await startRun({ outDir: split, text, tokenizer, config, spec: spec(8), stopAfter: 4 });
    expect(half.steps).toBe(4);
    const resumed = await continueRun({ outDir: split, text });
    expect(resumed.steps).toBe(8);
    expect(resumed.tokens).toBe(full.tokens);
    expect(resumed.flops).toBe(full.flops);
    const a = weights(straight);
    const b = weights(split);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) expect(Buffer.from(b[name].data.buffer, b[name].data.byteOffset, b[name].data.byteLength).equals(Buffer.from(a[name].data.buffer, a[name].data.byteOffset, a[name].data.byteLength))).toBe(true);
    expect(resumed.trainLoss).toBe(full.trainLoss);
    expect(resumed.evalLoss).toBe(full.evalLoss);
    const lines = fs.readFileSync(runPaths(split).metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('refuses to resume from NaN weights, naming the tensor, and leaves the checkpoint and metrics untouched', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(4), stopAfter: 2 });
    const modelFile = path.join(runPaths(dir).checkpoint, 'model.safetensors');
    const poisoned = readSafetensors(modelFile).tensors;
    const norm = poisoned['model.norm.weight'].data as Float32Array;
    norm.fill(NaN);
    writeSafetensors(modelFile, poisoned, { format: 'pt' });
    const snapshot = (f: string) => fs.readFileSync(f);
    const before = fs.readdirSync(runPaths(dir).checkpoint).map((f) => snapshot(path.join(runPaths(dir).checkpoint, f)));
    const metricsBefore = snapshot(runPaths(dir).metrics);
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(UserError);
    await expect(continueRun({ outDir: dir, text })).rejects.toThrowError(/model\.safetensors: tensor "model\.norm\.weight" element 0: expected a finite number.*found NaN/);
    const after = fs.readdirSync(runPaths(dir).checkpoint).map((f) => snapshot(path.join(runPaths(dir).checkpoint, f)));
    expect(after).toEqual(before);
    expect(snapshot(runPaths(dir).metrics)).toEqual(metricsBefore);
  });

  it('refuses to start over an existing run', async () => {
    const dir = tmp();
    await startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(1) });
    await expect(startRun({ outDir: dir, text, tokenizer: new ByteTokenizer(), config, spec: spec(1) })).rejects.toThrowError(/expected a new or empty run directory/);
  });
});
