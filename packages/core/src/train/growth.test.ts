import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import { llamaConfig, type ModelConfig } from '../model/config.js';
import { countParams, initParams, paramShapes, type Params } from '../model/params.js';
import { ByteTokenizer } from '../data/tokenizer.js';
import { defaultAdamW } from './adamw.js';
import { continueRun, runPaths, startRun, type RunSpec } from './run.js';
import { checkGrowthRecord, startGrowth, type GrowFn } from './growth.js';
import { Trainer } from './trainer.js';
import { flopsPerToken } from '../model/flops.js';

const zeroLayer: ModelConfig = { ...llamaConfig({ vocab: 256, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 }), num_hidden_layers: 0 };
const text = 'grow me once, between two checkpoints. '.repeat(20);
const spec = (steps: number, every: number): RunSpec => ({
  totalSteps: steps,
  valFraction: 0.1,
  evalEvery: 0,
  checkpointEvery: every,
  corpus: 'test',
  trainer: { batchSize: 2, seqLen: 8, accumulation: 1, schedule: { kind: 'wsd', lr: 1e-2, warmup: 1, total: steps }, adamw: defaultAdamW, clipNorm: 1, seed: 3, evalBatches: 1 },
});
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'es-growth-'));
const records = (dir: string) =>
  fs.readFileSync(runPaths(dir).metrics, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; params: number; flops: number; loss: number });
const state = (dir: string) => JSON.parse(fs.readFileSync(path.join(runPaths(dir).checkpoint, 'trainer_state.json'), 'utf8'));

/** A test growth to `stage.layers` layers: kept weights copied, new weights seeded (at half the LR), moments of new weights zero. */
const grow: GrowFn = (config, params, optimizer, stage) => {
  const next = { ...config, num_hidden_layers: stage.layers as number };
  const out: Params = {};
  const lrScale: Record<string, number> = {};
  let k = 0;
  for (const [name, shape] of Object.entries(paramShapes(next))) {
    out[name] = params[name] ? params[name].clone() : shape.length === 1 ? tf.ones(shape) : tf.randomNormal(shape, 0, 0.02, 'float32', ++k);
    if (!params[name]) lrScale[name] = 0.5;
  }
  const moments: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(optimizer)) moments[name] = t.clone();
  return { config: next, params: out, optimizer: moments, lrScale };
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('0-layer models', () => {
  it('train (embeddings → norm → head): the loss falls, FLOPs are the head\'s, no tensors left behind', () => {
    const ids = Int32Array.from({ length: 600 }, (_, i) => (i * 7) % 40);
    const t = Trainer.fresh(zeroLayer, ids, ids.slice(0, 100), spec(20, 0).trainer);
    expect(Object.keys(t.params).sort()).toEqual(['lm_head.weight', 'model.embed_tokens.weight', 'model.norm.weight']);
    const first = t.step();
    const tensors = tf.memory().numTensors;
    let last = first;
    for (let i = 0; i < 15; i++) last = t.step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.flops).toBe(16 * 6 * 256 * 8 * 16);
    expect(flopsPerToken(zeroLayer, 8).trainPerToken).toBe(6 * 256 * 8);
    t.dispose();
  });
});

describe('Trainer.lrScale', () => {
  it('scales the update of the weights it names (0: frozen, 0.5: half the step), and is reset by replaceModel', () => {
    const config = llamaConfig({ vocab: 40, hidden: 8, ffn: 16, layers: 1, heads: 2, maxPositions: 16 });
    const ids = Int32Array.from({ length: 600 }, (_, i) => (i * 7) % 40);
    const options = spec(4, 0).trainer;
    const up = 'model.layers.0.mlp.up_proj.weight';
    const down = 'model.layers.0.mlp.down_proj.weight';
    const delta = (scale: Record<string, number>) => {
      const t = Trainer.fresh(config, ids, ids, options);
      t.lrScale = scale;
      const before = Object.fromEntries([up, down].map((n) => [n, t.params[n].dataSync().slice()]));
      t.step();
      const out = Object.fromEntries([up, down].map((n) => [n, Array.from(t.params[n].dataSync(), (x, i) => x - before[n][i])]));
      t.dispose();
      return out;
    };
    const plain = delta({});
    const scaled = delta({ [up]: 0, [down]: 0.5 });
    expect(scaled[up].every((d) => d === 0)).toBe(true);
    expect(plain[up].some((d) => d !== 0)).toBe(true);
    scaled[down].forEach((d, i) => expect(d).toBeCloseTo(plain[down][i] / 2, 6));
    const t = Trainer.fresh(config, ids, ids, options);
    t.lrScale = { [up]: 0 };
    const fresh = initParams(config, 9);
    t.replaceModel(config, fresh);
    tf.dispose(Object.values(fresh));
    expect(t.lrScale).toEqual({});
    t.dispose();
  });
});

describe('a growth schedule in a run', () => {
  it('grows at its step, logs the new size and FLOPs, records it, and a resume from before the growth ends where the straight run ends', async () => {
    const straight = tmp();
    const growth = { schedule: [{ step: 4, stage: { layers: 1 } }, { step: 7, stage: { layers: 2 } }], grow };
    await startRun({ outDir: straight, text, tokenizer: new ByteTokenizer(), config: zeroLayer, spec: spec(10, 3), growth });
    const log = records(straight);
    const sizes = [0, 1, 2].map((layers) => countParams({ ...zeroLayer, num_hidden_layers: layers }));
    expect(log.map((r) => r.params)).toEqual([0, 0, 0, 0, 1, 1, 1, 2, 2, 2].map((l) => sizes[l]));
    const perStep = (layers: number) => flopsPerToken({ ...zeroLayer, num_hidden_layers: layers }, 8).trainPerToken * 16;
    expect(log[4].flops - log[3].flops).toBe(perStep(1));
    expect(log[9].flops).toBe(4 * perStep(0) + 3 * perStep(1) + 3 * perStep(2));
    expect(state(straight).growth.done).toEqual([
      { step: 4, paramsBefore: sizes[0], paramsAfter: sizes[1] },
      { step: 7, paramsBefore: sizes[1], paramsAfter: sizes[2] },
    ]);

    // Stopped at step 3 (checkpoint of the 0-layer model), resumed: grows at 4 and 7 again, same losses.
    const resumed = tmp();
    await startRun({ outDir: resumed, text, tokenizer: new ByteTokenizer(), config: zeroLayer, spec: spec(10, 3), growth, stopAfter: 3 });
    expect(state(resumed).growth.done).toEqual([]);
    await expect(continueRun({ outDir: resumed, text })).rejects.toThrow(/2 to come/);
    // Then stopped at 6, after the first growth: that checkpoint holds the 1-layer model.
    await continueRun({ outDir: resumed, text, grow, stopAfter: 6 });
    expect(JSON.parse(fs.readFileSync(path.join(runPaths(resumed).checkpoint, 'config.json'), 'utf8')).num_hidden_layers).toBe(1);
    await continueRun({ outDir: resumed, text, grow });
    expect(records(resumed).map((r) => r.loss)).toEqual(log.map((r) => r.loss));
    expect(state(resumed).growth).toEqual(state(straight).growth);
    expect(Object.keys(state(straight).growth.lrScale).every((n) => n.startsWith('model.layers.1.'))).toBe(true);
  });

  it('refuses schedules out of order or out of range, and stored records that disagree with their step', () => {
    expect(() => startGrowth([{ step: 5, stage: {} }, { step: 5, stage: {} }], 10)).toThrow(UserError);
    expect(() => startGrowth([{ step: 10, stage: {} }], 10)).toThrow(/growth 1 step: expected an integer in \(0, 10\)/);
    const record = { schedule: [{ step: 4, stage: {} }], done: [] };
    expect(checkGrowthRecord(record, 4, 's.json')).toEqual(record);
    expect(() => checkGrowthRecord(record, 5, 's.json')).toThrow(/"growth.done": expected the growths scheduled before step 5 \(at 4\), found none/);
    expect(() => checkGrowthRecord({ schedule: 'x' }, 5, 's.json')).toThrow(UserError);
  });
});
